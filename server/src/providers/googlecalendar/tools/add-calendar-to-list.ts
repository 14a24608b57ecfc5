import { z } from 'zod';
import { defineTool } from '../../types.js';
import { CALENDAR_LIST_URL } from '../calendar-api.js';
import { definedOnly } from '../event-fields.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId.describe(
    'Id of an existing calendar the user can see, e.g. a colleague\'s email or "en.usa#holiday@group.v.calendar.google.com".',
  ),
  color_id: field.calendarColorId,
  hidden: z.boolean().optional().describe('true adds it hidden from the calendar view (default false).'),
  selected: z.boolean().optional().describe('Whether its events show in the calendar view (default true).'),
});

export const addCalendarToList = defineTool({
  name: 'googlecalendar_add_calendar_to_list',
  description: [
    "Subscribe the user to an existing calendar: add it to their calendar list so its events show up (a colleague's shared calendar, a public holiday calendar).",
    'It does not create a calendar (googlecalendar_create_calendar does) nor grant access (the calendar must already be shared with the user or public).',
    "Returns Google's calendarListEntry for it (id, summary, accessRole, colorId, …).",
  ].join(' '),
  input,
  annotations: {
    title: 'Add calendar to list',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarListInsert,
  async run(args, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: CALENDAR_LIST_URL,
      body: definedOnly({ id: args.calendar_id, colorId: args.color_id, hidden: args.hidden, selected: args.selected }),
    });
  },
});
