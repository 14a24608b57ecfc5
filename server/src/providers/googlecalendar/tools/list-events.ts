import { z } from 'zod';
import { defineTool } from '../../types.js';
import { eventsUrl } from '../calendar-api.js';
import { eventOrder, fetchEventPage } from '../event-list.js';
import { queryTime } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.optionalCalendarId,
  max_results: field.maxResults(2500, 50),
  order_by: field.orderBy,
  page_token: field.pageToken,
  query: z
    .string()
    .min(1)
    .optional()
    .describe('Free-text filter over title, description, location, attendees and organizer, e.g. "dentist".'),
  single_events: field.singleEvents,
  time_max: field.timeBound('upper', 'events'),
  time_min: field
    .timeBound('lower', 'events')
    .describe(
      'Only events ending after this time, RFC 3339 with offset, e.g. 2026-03-09T00:00:00-05:00. Defaults to now (upcoming events); pass an earlier time to see past events.',
    ),
});

export const listEvents = defineTool({
  name: 'googlecalendar_list_events',
  description: [
    "List events of one of the user's calendars in a time window, by default the upcoming events of the primary calendar in start-time order,",
    'with recurring events expanded into occurrences. Use time_min/time_max for a day or week ("what is on my calendar tomorrow").',
    'For keyword search across any time use googlecalendar_search_events; for free/busy across several calendars use googlecalendar_query_freebusy.',
    "Returns { events: Google event objects (id, summary, start, end, attendees, htmlLink, …), next_page_token (null on the last page), time_zone (the calendar's) }.",
  ].join(' '),
  input,
  annotations: {
    title: 'List calendar events',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsRead,
  async run(args, ctx) {
    const singleEvents = args.single_events ?? true;
    const orderBy = eventOrder(args.order_by, singleEvents);
    // "Upcoming" by default, but never move the window under a page token.
    const timeMin =
      queryTime('time_min', args.time_min) ??
      (args.page_token === undefined ? new Date(ctx.now()).toISOString() : undefined);
    return fetchEventPage(ctx, eventsUrl(args.calendar_id ?? field.DEFAULT_CALENDAR_ID), {
      maxResults: args.max_results ?? 50,
      orderBy,
      pageToken: args.page_token,
      q: args.query,
      singleEvents,
      timeMin,
      timeMax: queryTime('time_max', args.time_max),
    });
  },
});
