import { z } from 'zod';
import { defineTool } from '../../types.js';
import { calendarUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({ calendar_id: field.calendarId });

export const getCalendar = defineTool({
  name: 'googlecalendar_get_calendar',
  description: [
    "Get a calendar's own metadata, the same for everyone who sees it: name, description, location, time zone.",
    "For the user's personal view of it (color, hidden, access role, default reminders) use googlecalendar_get_calendar_list_entry.",
    "Returns Google's calendar object { id, summary, description, location, timeZone, conferenceProperties }.",
  ].join(' '),
  input,
  annotations: {
    title: 'Get calendar',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarsGet,
  async run(args, ctx) {
    return ctx.api.request({ url: calendarUrl(args.calendar_id) });
  },
});
