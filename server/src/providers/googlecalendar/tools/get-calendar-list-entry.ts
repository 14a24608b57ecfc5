import { z } from 'zod';
import { defineTool } from '../../types.js';
import { calendarListEntryUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({ calendar_id: field.calendarId });

export const getCalendarListEntry = defineTool({
  name: 'googlecalendar_get_calendar_list_entry',
  description: [
    "Get the user's own view of one calendar in their list: access role, color, hidden/selected, name override, default reminders and notification settings.",
    "For the calendar's shared metadata use googlecalendar_get_calendar.",
    "Returns Google's calendarListEntry { id, summary, summaryOverride, accessRole, colorId, backgroundColor, hidden, selected, primary, timeZone, defaultReminders }.",
  ].join(' '),
  input,
  annotations: {
    title: 'Get calendar list entry',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarListGet,
  async run(args, ctx) {
    return ctx.api.request({ url: calendarListEntryUrl(args.calendar_id) });
  },
});
