import { z } from 'zod';
import { defineTool } from '../../types.js';
import { eventsUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  text: z
    .string()
    .min(1)
    .max(1024)
    .describe('The event in plain English, e.g. "Lunch with Ana at Cafe Roma tomorrow 12:30pm-1:30pm".'),
  send_updates: field.sendUpdatesMode,
});

export const quickAddEvent = defineTool({
  name: 'googlecalendar_quick_add_event',
  description: [
    "Create an event from one sentence, parsed by Google Calendar's own natural-language reader (title, day, time, place), in the calendar's time zone.",
    'Good for simple requests; Google guesses, so check the returned start and end.',
    'For exact times, guests, recurrence or a Meet link use googlecalendar_create_event.',
    'Returns the created Google event object (id, summary, start, end, htmlLink).',
  ].join(' '),
  input,
  annotations: {
    title: 'Quick-add event from text',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsWrite,
  async run(args, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: `${eventsUrl(args.calendar_id)}/quickAdd`,
      query: { text: args.text, sendUpdates: args.send_updates },
    });
  },
});
