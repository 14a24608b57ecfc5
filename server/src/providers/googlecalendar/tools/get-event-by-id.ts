import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { eventUrl } from '../calendar-api.js';
import { fetchEventPage } from '../event-list.js';
import { queryTime } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

interface GoogleEvent {
  id?: string;
  status?: string;
  eventType?: string;
  summary?: string;
  description?: string;
  location?: string;
  updated?: string;
  recurrence?: string[];
  organizer?: { email?: string; displayName?: string };
  attendees?: { email?: string; displayName?: string }[];
  start?: { dateTime?: string; date?: string };
  end?: { dateTime?: string; date?: string };
}

const input = z.object({
  event_id: field.eventId,
  calendar_id: field.optionalCalendarId,
  event_types: z
    .array(z.enum(['default', 'outOfOffice', 'focusTime', 'workingLocation', 'birthday', 'fromGmail']))
    .max(6)
    .optional()
    .describe('Only return the event if its eventType is one of these.'),
  query: z
    .string()
    .min(1)
    .optional()
    .describe('Only return the event if every word appears in its title, description, location, organizer or guests.'),
  show_deleted: z
    .boolean()
    .optional()
    .describe('true also returns a cancelled (deleted) event; by default a cancelled event counts as not found.'),
  single_events: z
    .boolean()
    .optional()
    .describe(
      'true and the event is a recurring series: also return its occurrences within time_min/time_max under `instances` (at most 250).',
    ),
  time_max: field.timeBound('upper', 'an event'),
  time_min: field.timeBound('lower', 'an event'),
  updated_min: z
    .string()
    .min(1)
    .optional()
    .describe('Only return the event if it was last modified at or after this time (RFC 3339 with offset).'),
});

const momentOf = (moment: GoogleEvent['start']): number =>
  moment?.dateTime ? Date.parse(moment.dateTime) : moment?.date ? Date.parse(`${moment.date}T00:00:00Z`) : Number.NaN;

function mismatch(
  event: GoogleEvent,
  args: z.output<typeof input>,
  bounds: Record<string, string | undefined>,
): string[] {
  const reasons: string[] = [];
  if (event.status === 'cancelled' && !args.show_deleted) reasons.push('it is cancelled (pass show_deleted true)');
  if (args.event_types?.length && !args.event_types.some((type) => type === (event.eventType ?? 'default'))) {
    reasons.push(`its type is ${event.eventType ?? 'default'}`);
  }
  if (args.query) {
    const haystack = [
      event.summary,
      event.description,
      event.location,
      event.organizer?.email,
      event.organizer?.displayName,
      ...(event.attendees ?? []).flatMap((a) => [a.email, a.displayName]),
    ]
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    const words = args.query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.every((word) => haystack.includes(word))) reasons.push(`it does not contain "${args.query}"`);
  }
  // A series' start and end are those of its first occurrence; its later ones may still
  // fall in the window, so the window only filters one-off events and occurrences.
  const series = (event.recurrence?.length ?? 0) > 0;
  if (!series && bounds.timeMin && momentOf(event.end) <= Date.parse(bounds.timeMin)) {
    reasons.push('it ends before time_min');
  }
  if (!series && bounds.timeMax && momentOf(event.start) >= Date.parse(bounds.timeMax)) {
    reasons.push('it starts after time_max');
  }
  if (bounds.updatedMin && event.updated && Date.parse(event.updated) < Date.parse(bounds.updatedMin)) {
    reasons.push('it was last updated before updated_min');
  }
  return reasons;
}

export const getEventById = defineTool({
  name: 'googlecalendar_get_event_by_id',
  description: [
    'Fetch one event by its id, with every detail (guests and their RSVPs, conference link, recurrence, reminders).',
    'The optional filters (time window, query, event_types, updated_min, show_deleted) act as checks: when the event does not match them the tool reports it as not found.',
    'With single_events true on a recurring series, its occurrences in the window come back too.',
    'To find an event without its id use googlecalendar_search_events or googlecalendar_list_events.',
    "Returns Google's event object (id, summary, start, end, attendees, htmlLink, …), plus `instances` for a series when single_events is true.",
  ].join(' '),
  input,
  annotations: {
    title: 'Get calendar event',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsRead,
  async run(args, ctx) {
    const calendarId = args.calendar_id ?? field.DEFAULT_CALENDAR_ID;
    const bounds = {
      timeMin: queryTime('time_min', args.time_min),
      timeMax: queryTime('time_max', args.time_max),
      updatedMin: queryTime('updated_min', args.updated_min),
    };
    const url = eventUrl(calendarId, args.event_id);
    const event = await ctx.api.request<GoogleEvent>({ url });

    const reasons = mismatch(event, args, bounds);
    if (reasons.length > 0) {
      throw new AppError(
        'not_found',
        `event ${args.event_id} exists but does not match the filters: ${reasons.join('; ')}`,
        {
          details: { event_id: args.event_id },
        },
      );
    }
    if (!args.single_events || !event.recurrence?.length) return event;
    const instances = await fetchEventPage(ctx, `${url}/instances`, {
      maxResults: 250,
      showDeleted: args.show_deleted,
      timeMin: bounds.timeMin,
      timeMax: bounds.timeMax,
    });
    return { ...event, instances: instances.events };
  },
});
