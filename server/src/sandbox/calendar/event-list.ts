import { badRequest } from './errors.js';
import { renderEvent } from './event-render.js';
import { eventSpan, isRecurringMaster, seriesInstances } from './event-series.js';
import { etagOf } from './ids.js';
import type { CalendarRecord, CalendarState, EventRecord } from './state.js';
import { formatTimestamp } from './time.js';
import { decodePageToken, decodeSyncToken, encodePageToken, encodeSyncToken } from './tokens.js';

/** The filters of events.list and events.instances, parsed from the query string by the route. */
export interface EventQuery {
  timeMin?: number;
  timeMax?: number;
  updatedMin?: number;
  q?: string;
  iCalUID?: string;
  singleEvents: boolean;
  showDeleted: boolean;
  orderBy?: 'startTime' | 'updated';
  maxResults: number;
  pageToken?: string;
  syncToken?: string;
  timeZone: string;
  maxAttendees?: number;
  privateExtendedProperty: string[];
  sharedExtendedProperty: string[];
  eventTypes: string[];
}

export function overlaps(span: { start: number; end: number }, from?: number, to?: number): boolean {
  const endsAfter = from === undefined || span.end > from || (span.end === span.start && span.start >= from);
  return endsAfter && (to === undefined || span.start < to);
}

/** Free text as Calendar searches it: every word (or "quoted phrase") somewhere in the event's text fields. */
function matchesText(event: EventRecord, q: string): boolean {
  const haystack = [
    event.summary,
    event.description,
    event.location,
    event.organizer.email,
    event.organizer.displayName,
    ...(event.attendees ?? []).flatMap((a) => [a.email, a.displayName]),
  ]
    .filter((s): s is string => typeof s === 'string')
    .join('\n')
    .toLowerCase();
  const terms = [...q.toLowerCase().matchAll(/"([^"]+)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
  return terms.every((term) => haystack.includes(term));
}

function matchesProperties(values: Record<string, string> | undefined, constraints: string[]): boolean {
  return constraints.every((constraint) => {
    const cut = constraint.indexOf('=');
    if (cut < 0) throw badRequest('Invalid extended property constraint.');
    return values?.[constraint.slice(0, cut)] === constraint.slice(cut + 1);
  });
}

/** All candidates of a listing, series expanded when singleEvents is on. */
function candidates(calendar: CalendarRecord, query: EventQuery): EventRecord[] {
  const out: EventRecord[] = [];
  for (const event of calendar.events.values()) {
    if (!query.singleEvents) {
      out.push(event);
      continue;
    }
    if (isRecurringMaster(event)) {
      if (event.status === 'cancelled') out.push(event);
      else out.push(...seriesInstances(event, calendar, { from: query.timeMin, to: query.timeMax }));
      continue;
    }
    const master = event.recurringEventId ? calendar.events.get(event.recurringEventId) : undefined;
    if (master && isRecurringMaster(master) && master.status !== 'cancelled') continue; // emitted by its series
    out.push(event);
  }
  return out;
}

export function filterAndSort(calendar: CalendarRecord, query: EventQuery, sinceRevision?: number): EventRecord[] {
  // Deleted entries come back with showDeleted, and always for updatedMin and incremental sync (Google's rule).
  const includeDeleted = query.showDeleted || query.updatedMin !== undefined || sinceRevision !== undefined;
  const selected = candidates(calendar, query).filter((event) => {
    if (event.status === 'cancelled' && !includeDeleted) return false;
    if (sinceRevision !== undefined && event.revision <= sinceRevision) return false;
    if (query.updatedMin !== undefined && event.updated < query.updatedMin) return false;
    if (query.timeMin !== undefined || query.timeMax !== undefined) {
      const inWindow =
        !query.singleEvents && isRecurringMaster(event)
          ? seriesInstances(event, calendar, { from: query.timeMin, to: query.timeMax, limit: 2000 }).some(
              (i) => i.status !== 'cancelled',
            )
          : overlaps(eventSpan(event, calendar.timeZone), query.timeMin, query.timeMax);
      if (!inWindow) return false;
    }
    if (query.q && !matchesText(event, query.q)) return false;
    if (query.iCalUID && event.iCalUID !== query.iCalUID) return false;
    if (!matchesProperties(event.extendedProperties?.private, query.privateExtendedProperty)) return false;
    if (!matchesProperties(event.extendedProperties?.shared, query.sharedExtendedProperty)) return false;
    if (query.eventTypes.length > 0 && !query.eventTypes.includes(event.eventType)) return false;
    return true;
  });
  const startOf = (e: EventRecord) => eventSpan(e, calendar.timeZone).start;
  if (query.orderBy === 'updated') {
    return selected.sort((a, b) => a.updated - b.updated || a.revision - b.revision || a.id.localeCompare(b.id));
  }
  return selected.sort((a, b) => startOf(a) - startOf(b) || a.id.localeCompare(b.id));
}

/** The `calendar#events` envelope shared by events.list and events.instances. */
export function eventsPage(
  state: CalendarState,
  calendar: CalendarRecord,
  events: EventRecord[],
  query: EventQuery,
  tokenScope: string,
): Record<string, unknown> {
  const offset = decodePageToken(tokenScope, query.pageToken);
  const page = events.slice(offset, offset + query.maxResults);
  const entry = state.calendarList.get(calendar.id);
  const updated = [...calendar.events.values()].reduce((max, e) => Math.max(max, e.updated), calendar.updated);
  const out: Record<string, unknown> = {
    kind: 'calendar#events',
    etag: etagOf(updated, state.revision),
    summary: calendar.summary,
  };
  if (calendar.description) out.description = calendar.description;
  out.updated = formatTimestamp(updated);
  out.timeZone = calendar.timeZone;
  out.accessRole = calendar.accessRole;
  out.defaultReminders = entry?.defaultReminders.map((r) => ({ ...r })) ?? [];
  if (offset + query.maxResults < events.length) {
    out.nextPageToken = encodePageToken(tokenScope, offset + query.maxResults);
  } else {
    out.nextSyncToken = encodeSyncToken(tokenScope, state.revision);
  }
  out.items = page.map((event) =>
    renderEvent(event, { calendar, timeZone: query.timeZone, maxAttendees: query.maxAttendees }),
  );
  return out;
}

/** events.list: validation of the parameter combinations Google refuses, then filter, sort, page. */
export function listEvents(state: CalendarState, calendar: CalendarRecord, query: EventQuery): Record<string, unknown> {
  if (query.orderBy === 'startTime' && !query.singleEvents) {
    throw badRequest('The requested ordering is not available for the particular query.', 'badRequest');
  }
  if (query.timeMin !== undefined && query.timeMax !== undefined && query.timeMin >= query.timeMax) {
    throw badRequest('The specified time range is empty.', 'timeRangeEmpty');
  }
  const scope = `events:${calendar.id}`;
  let sinceRevision: number | undefined;
  if (query.syncToken) {
    const filtered =
      query.timeMin !== undefined ||
      query.timeMax !== undefined ||
      query.updatedMin !== undefined ||
      query.q ||
      query.iCalUID ||
      query.orderBy ||
      query.privateExtendedProperty.length > 0 ||
      query.sharedExtendedProperty.length > 0;
    if (filtered) {
      throw badRequest(
        'The syncToken cannot be combined with timeMin, timeMax, updatedMin, q, iCalUID, orderBy or extended property filters.',
      );
    }
    sinceRevision = decodeSyncToken(scope, query.syncToken, state.revision);
  }
  return eventsPage(state, calendar, filterAndSort(calendar, query, sinceRevision), query, scope);
}
