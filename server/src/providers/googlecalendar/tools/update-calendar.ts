import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { calendarUrl } from '../calendar-api.js';
import { definedOnly } from '../event-fields.js';
import { assertTimeZone } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  description: z.string().max(8192).optional().describe('New description.'),
  location: z.string().max(1024).optional().describe('New geographic location, free text.'),
  summary: z.string().min(1).max(255).optional().describe('New name of the calendar.'),
  timezone: field.ianaTimeZone("the calendar's new time zone."),
});

export const updateCalendar = defineTool({
  name: 'googlecalendar_update_calendar',
  description: [
    "Change a calendar's shared metadata (name, description, location, time zone); fields left out stay as they are.",
    "The user needs owner access. To rename it only in the user's own list, or change its color, use googlecalendar_update_calendar_list_entry.",
    'Returns the updated Google calendar object.',
  ].join(' '),
  input,
  annotations: {
    title: 'Update calendar',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarsWrite,
  async run(args, ctx) {
    const body = definedOnly({
      summary: args.summary,
      description: args.description,
      location: args.location,
      timeZone: args.timezone === undefined ? undefined : assertTimeZone('timezone', args.timezone),
    });
    if (Object.keys(body).length === 0) {
      throw new AppError('tool_input_invalid', 'nothing to change: give summary, description, location or timezone');
    }
    return ctx.api.request({ method: 'PATCH', url: calendarUrl(args.calendar_id), body });
  },
});
