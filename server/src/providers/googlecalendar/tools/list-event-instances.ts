import { z } from 'zod';
import { defineTool } from '../../types.js';
import { eventUrl } from '../calendar-api.js';
import { fetchEventPage } from '../event-list.js';
import { queryTime } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  event_id: field.eventId.describe(
    'Id of the recurring event (the series), e.g. from googlecalendar_list_events with single_events false.',
  ),
  max_results: field.maxResults(2500, 50),
  page_token: field.pageToken,
  time_max: field.timeBound('upper', 'occurrences'),
  time_min: field.timeBound('lower', 'occurrences'),
});

export const listEventInstances = defineTool({
  name: 'googlecalendar_list_event_instances',
  description: [
    'List the individual occurrences of one recurring event (a series), in start order, optionally within time_min/time_max.',
    'Each occurrence has its own id (series id + "_" + start), which googlecalendar_update_event and googlecalendar_delete_event accept',
    'to change or cancel just that occurrence. For all events of a calendar use googlecalendar_list_events.',
    'Returns { events: Google event objects with recurringEventId and originalStartTime, next_page_token, time_zone }.',
  ].join(' '),
  input,
  annotations: {
    title: 'List occurrences of a recurring event',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsRead,
  async run(args, ctx) {
    return fetchEventPage(ctx, `${eventUrl(args.calendar_id, args.event_id)}/instances`, {
      maxResults: args.max_results ?? 50,
      pageToken: args.page_token,
      timeMin: queryTime('time_min', args.time_min),
      timeMax: queryTime('time_max', args.time_max),
    });
  },
});
