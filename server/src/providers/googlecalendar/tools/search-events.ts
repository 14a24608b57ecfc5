import { z } from 'zod';
import { defineTool } from '../../types.js';
import { eventsUrl } from '../calendar-api.js';
import { eventOrder, fetchEventPage } from '../event-list.js';
import { queryTime } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  max_results: field.maxResults(2500, 50),
  order_by: field.orderBy,
  page_token: field.pageToken,
  query: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Words to find in the title, description, location, attendees or organizer, e.g. "quarterly review" or "ana@example.com".',
    ),
  single_events: field.singleEvents,
  time_max: field.timeBound('upper', 'events'),
  time_min: field.timeBound('lower', 'events'),
});

export const searchEvents = defineTool({
  name: 'googlecalendar_search_events',
  description: [
    'Find events in one calendar by free text (query), over all time unless time_min/time_max narrow it;',
    'recurring events are expanded into occurrences by default and sorted by start time.',
    'Use it to locate an event before updating or deleting it ("find my dentist appointment").',
    'googlecalendar_list_events is the better choice for "what is coming up" (it defaults to upcoming events).',
    "Returns { events: Google event objects, next_page_token (null on the last page), time_zone (the calendar's) }.",
  ].join(' '),
  input,
  annotations: {
    title: 'Search calendar events',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsRead,
  async run(args, ctx) {
    const singleEvents = args.single_events ?? true;
    return fetchEventPage(ctx, eventsUrl(args.calendar_id), {
      maxResults: args.max_results ?? 50,
      orderBy: eventOrder(args.order_by, singleEvents),
      pageToken: args.page_token,
      q: args.query,
      singleEvents,
      timeMin: queryTime('time_min', args.time_min),
      timeMax: queryTime('time_max', args.time_max),
    });
  },
});
