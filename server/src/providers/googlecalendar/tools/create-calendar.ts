import { z } from 'zod';
import { defineTool } from '../../types.js';
import { CALENDAR_API } from '../calendar-api.js';
import { definedOnly } from '../event-fields.js';
import { assertTimeZone } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  summary: z.string().min(1).max(255).describe('Name of the new calendar, e.g. "Team offsites".'),
  description: z.string().max(8192).optional().describe('What the calendar is for.'),
  location: z.string().max(1024).optional().describe('Geographic location of the calendar as free text, e.g. "Paris".'),
  timezone: field.ianaTimeZone("the calendar's time zone. Defaults to the user's."),
});

export const createCalendar = defineTool({
  name: 'googlecalendar_create_calendar',
  description: [
    'Create a new secondary calendar owned by the user (for example a calendar per project), added to their calendar list.',
    'To subscribe to an existing calendar use googlecalendar_add_calendar_to_list; to share it afterwards use googlecalendar_insert_acl_rule.',
    "Returns Google's calendar object: id (use it as calendar_id in other tools), summary, timeZone.",
  ].join(' '),
  input,
  annotations: {
    title: 'Create calendar',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarsWrite,
  async run(args, ctx) {
    const timeZone = args.timezone === undefined ? undefined : assertTimeZone('timezone', args.timezone);
    return ctx.api.request({
      method: 'POST',
      url: `${CALENDAR_API}/calendars`,
      body: definedOnly({ summary: args.summary, description: args.description, location: args.location, timeZone }),
    });
  },
});
