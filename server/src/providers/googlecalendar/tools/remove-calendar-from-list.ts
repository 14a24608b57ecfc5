import { z } from 'zod';
import { defineTool } from '../../types.js';
import { calendarListEntryUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId.describe("Id of the calendar to unsubscribe from (not 'primary')."),
});

export const removeCalendarFromList = defineTool({
  name: 'googlecalendar_remove_calendar_from_list',
  description: [
    'Unsubscribe the user from a calendar: remove it from their calendar list. The calendar and its events keep existing for everyone else,',
    'and it can be added back with googlecalendar_add_calendar_to_list. To delete a calendar the user owns use googlecalendar_delete_calendar.',
    'Returns { removed: true, calendar_id }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Remove calendar from list',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarListWrite,
  async run(args, ctx) {
    await ctx.api.request({ method: 'DELETE', url: calendarListEntryUrl(args.calendar_id) });
    return { removed: true, calendar_id: args.calendar_id };
  },
});
