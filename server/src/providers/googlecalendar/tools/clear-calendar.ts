import { z } from 'zod';
import { defineTool } from '../../types.js';
import { calendarUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId.describe("Calendar to empty; Google only allows 'primary' (the user's main calendar)."),
});

export const clearCalendar = defineTool({
  name: 'googlecalendar_clear_calendar',
  description: [
    "Delete every event of the user's primary calendar at once, past and future. This cannot be undone; confirm with the user first.",
    'Secondary calendars cannot be cleared this way: delete them with googlecalendar_delete_calendar, or single events with googlecalendar_delete_event.',
    'Returns { cleared: true, calendar_id }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Clear primary calendar',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarsAdmin,
  async run(args, ctx) {
    await ctx.api.request({ method: 'POST', url: `${calendarUrl(args.calendar_id)}/clear` });
    return { cleared: true, calendar_id: args.calendar_id };
  },
});
