import type { Context, Hono } from 'hono';
import type { SandboxContext } from '../context.js';
import {
  boolParam,
  type CalendarCall,
  enumParam,
  findCalendar,
  instantParam,
  intParam,
  noContent,
  readJson,
  requireAccess,
  routeFactory,
  timeZoneParam,
} from './call.js';
import { badRequest, CalendarApiError, deletedResource, missing, notFound, preconditionFailed } from './errors.js';
import { type EventInput, eventInputSchema, mergePatch, parseBody, writeEvent } from './event-input.js';
import { type EventQuery, eventsPage, filterAndSort, listEvents } from './event-list.js';
import { renderEvent } from './event-render.js';
import { isRecurringMaster, seriesInstances, virtualInstance } from './event-series.js';
import { etagOf } from './ids.js';
import { parseQuickAdd } from './quick-add.js';
import { calendarScopes } from './scopes.js';
import { type CalendarRecord, type EventRecord, nextRevision } from './state.js';
import { formatDate } from './time.js';

/** Events: list, get, insert, import, quickAdd, update, patch, delete, move, instances. */
function readQuery(url: URL, calendar: CalendarRecord): EventQuery {
  return {
    timeMin: instantParam(url, 'timeMin'),
    timeMax: instantParam(url, 'timeMax'),
    updatedMin: instantParam(url, 'updatedMin'),
    q: url.searchParams.get('q') || undefined,
    iCalUID: url.searchParams.get('iCalUID') || undefined,
    singleEvents: boolParam(url, 'singleEvents') ?? false,
    showDeleted: boolParam(url, 'showDeleted') ?? false,
    orderBy: enumParam(url, 'orderBy', ['startTime', 'updated'] as const),
    // Google caps the page at 2500 whatever is asked.
    maxResults: intParam(url, 'maxResults', { min: 1, max: 2500, clampMax: true }) ?? 250,
    pageToken: url.searchParams.get('pageToken') || undefined,
    syncToken: url.searchParams.get('syncToken') || undefined,
    timeZone: timeZoneParam(url, calendar.timeZone),
    maxAttendees: intParam(url, 'maxAttendees', { min: 1, max: 1_000_000 }),
    privateExtendedProperty: url.searchParams.getAll('privateExtendedProperty'),
    sharedExtendedProperty: url.searchParams.getAll('sharedExtendedProperty'),
    eventTypes: url.searchParams.getAll('eventTypes'),
  };
}

function writeOptions(call: CalendarCall) {
  enumParam(call.url, 'sendUpdates', ['all', 'externalOnly', 'none'] as const);
  boolParam(call.url, 'sendNotifications');
  return { conferenceDataVersion: intParam(call.url, 'conferenceDataVersion', { min: 0, max: 1 }) ?? 0 };
}

function respond(c: Context, call: CalendarCall, calendar: CalendarRecord, event: EventRecord): Response {
  const timeZone = timeZoneParam(call.url, calendar.timeZone);
  const maxAttendees = intParam(call.url, 'maxAttendees', { min: 1, max: 1_000_000 });
  return c.json(renderEvent(event, { calendar, timeZone, maxAttendees }));
}

/** A stored event, or an unmodified instance of a recurring one computed from its id. */
function findEvent(calendar: CalendarRecord, eventId: string): EventRecord {
  const event = calendar.events.get(eventId) ?? virtualInstance(calendar, eventId);
  if (!event) throw notFound();
  return event;
}

function checkIfMatch(c: Context, event: EventRecord): void {
  const expected = c.req.header('if-match');
  if (expected && expected !== '*' && expected !== etagOf(event.updated, event.revision)) throw preconditionFailed();
}

/** Writes an update of `existing` (stored, or a computed instance that becomes an exception). */
function store(
  call: CalendarCall,
  calendar: CalendarRecord,
  existing: EventRecord,
  input: EventInput,
  version: number,
) {
  const stored = calendar.events.has(existing.id);
  const record = writeEvent(input, {
    user: call.principal.user,
    calendar,
    now: call.now,
    revision: nextRevision(call.state),
    conferenceDataVersion: version,
    existing: stored ? existing : undefined,
    instanceOf:
      stored || !existing.recurringEventId || !existing.originalStart
        ? undefined
        : { id: existing.id, recurringEventId: existing.recurringEventId, originalStart: existing.originalStart },
  });
  if (!stored) {
    record.created = existing.created;
    record.creator = existing.creator;
    record.organizer = existing.organizer;
    record.iCalUID = existing.iCalUID;
  }
  calendar.events.set(record.id, record);
  return record;
}

function cancel(call: CalendarCall, event: EventRecord, revision: number): EventRecord {
  return { ...event, status: 'cancelled', updated: call.now, revision };
}

export function registerEventRoutes(app: Hono, ctx: SandboxContext): void {
  const route = routeFactory(ctx);
  const base = '/calendars/:calendarId/events';

  app.get(
    base,
    route(calendarScopes.eventsRead, (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      return c.json(listEvents(call.state, calendar, readQuery(call.url, calendar)));
    }),
  );

  app.post(
    base,
    route(calendarScopes.eventsWrite, async (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      requireAccess(calendar, 'writer');
      const { conferenceDataVersion } = writeOptions(call);
      const input = parseBody(eventInputSchema, await readJson(c));
      const record = writeEvent(
        { ...input, status: input.status === 'cancelled' ? 'confirmed' : input.status, iCalUID: undefined },
        {
          user: call.principal.user,
          calendar,
          now: call.now,
          revision: nextRevision(call.state),
          conferenceDataVersion,
        },
      );
      calendar.events.set(record.id, record);
      return respond(c, call, calendar, record);
    }),
  );

  app.post(
    `${base}/import`,
    route(calendarScopes.eventsWrite, async (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      requireAccess(calendar, 'writer');
      const { conferenceDataVersion } = writeOptions(call);
      const input = parseBody(eventInputSchema, await readJson(c));
      if (!input.iCalUID) throw missing('Missing iCalUID.');
      // Importing an iCalUID already present updates that event, which is how Google dedupes imports.
      const existing = [...calendar.events.values()].find((e) => e.iCalUID === input.iCalUID && !e.recurringEventId);
      const record = existing
        ? store(call, calendar, existing, input, conferenceDataVersion)
        : writeEvent(input, {
            user: call.principal.user,
            calendar,
            now: call.now,
            revision: nextRevision(call.state),
            conferenceDataVersion,
          });
      calendar.events.set(record.id, record);
      return respond(c, call, calendar, record);
    }),
  );

  app.post(
    `${base}/quickAdd`,
    route(calendarScopes.eventsWrite, (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      requireAccess(calendar, 'writer');
      writeOptions(call);
      const text = call.url.searchParams.get('text');
      if (!text?.trim()) throw missing('Required parameter: text');
      const parsed = parseQuickAdd(text, call.now, calendar.timeZone);
      const toInput = (t: typeof parsed.start) =>
        t.kind === 'date' ? { date: formatDate(t.date) } : { dateTime: new Date(t.instant).toISOString() };
      const record = writeEvent(
        { summary: parsed.summary, location: parsed.location, start: toInput(parsed.start), end: toInput(parsed.end) },
        {
          user: call.principal.user,
          calendar,
          now: call.now,
          revision: nextRevision(call.state),
          conferenceDataVersion: 0,
        },
      );
      calendar.events.set(record.id, record);
      return respond(c, call, calendar, record);
    }),
  );

  app.get(
    `${base}/:eventId`,
    route(calendarScopes.eventsRead, (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      const event = findEvent(calendar, c.req.param('eventId') ?? '');
      const etag = etagOf(event.updated, event.revision);
      if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304 });
      return respond(c, call, calendar, event);
    }),
  );

  app.put(
    `${base}/:eventId`,
    route(calendarScopes.eventsWrite, async (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      requireAccess(calendar, 'writer');
      const existing = findEvent(calendar, c.req.param('eventId') ?? '');
      checkIfMatch(c, existing);
      const { conferenceDataVersion } = writeOptions(call);
      const input = parseBody(eventInputSchema, await readJson(c));
      return respond(c, call, calendar, store(call, calendar, existing, input, conferenceDataVersion));
    }),
  );

  app.patch(
    `${base}/:eventId`,
    route(calendarScopes.eventsWrite, async (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      requireAccess(calendar, 'writer');
      const existing = findEvent(calendar, c.req.param('eventId') ?? '');
      checkIfMatch(c, existing);
      const { conferenceDataVersion } = writeOptions(call);
      const current = renderEvent(existing, { calendar, timeZone: calendar.timeZone });
      const merged = mergePatch(current, await readJson(c));
      const input = parseBody(eventInputSchema, merged);
      return respond(c, call, calendar, store(call, calendar, existing, input, conferenceDataVersion));
    }),
  );

  app.delete(
    `${base}/:eventId`,
    route(calendarScopes.eventsWrite, (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      requireAccess(calendar, 'writer');
      writeOptions(call);
      const event = findEvent(calendar, c.req.param('eventId') ?? '');
      if (event.status === 'cancelled') throw deletedResource();
      checkIfMatch(c, event);
      const revision = nextRevision(call.state);
      calendar.events.set(event.id, cancel(call, event, revision));
      if (isRecurringMaster(event)) {
        for (const other of calendar.events.values()) {
          if (other.recurringEventId === event.id && other.status !== 'cancelled') {
            calendar.events.set(other.id, cancel(call, other, revision));
          }
        }
      }
      return noContent();
    }),
  );

  app.post(
    `${base}/:eventId/move`,
    route(calendarScopes.eventsMove, (call, c) => {
      const source = findCalendar(call.state, c.req.param('calendarId') ?? '');
      const destinationId = call.url.searchParams.get('destination');
      if (!destinationId) throw missing('Required parameter: destination');
      writeOptions(call);
      const event = findEvent(source, c.req.param('eventId') ?? '');
      const destination = findCalendar(call.state, destinationId);
      requireAccess(source, 'writer');
      requireAccess(destination, 'writer');
      if (event.status === 'cancelled') throw deletedResource();
      if (event.recurringEventId) {
        throw new CalendarApiError(
          400,
          'cannotChangeOrganizerOfInstance',
          'Cannot change the organizer of an instance.',
        );
      }
      if (event.eventType !== 'default') throw badRequest('Only default events can be moved.', 'eventTypeRestriction');
      if (destination.id === source.id) return respond(c, call, destination, event);
      if (destination.events.get(event.id)?.status === 'confirmed') {
        throw new CalendarApiError(409, 'duplicate', 'The requested identifier already exists.');
      }
      const revision = nextRevision(call.state);
      const organizer = destination.primary
        ? { email: destination.id, self: true }
        : { email: destination.id, displayName: destination.summary, self: true };
      const family = [event, ...[...source.events.values()].filter((e) => e.recurringEventId === event.id)];
      let moved = event;
      for (const member of family) {
        const copy: EventRecord = { ...member, organizer, updated: call.now, revision };
        if (copy.attendees) {
          copy.attendees = copy.attendees.map((a) => (a.organizer ? { ...a, email: destination.id } : a));
        }
        destination.events.set(copy.id, copy);
        // The source keeps a tombstone so its incremental sync learns the event left.
        source.events.set(member.id, cancel(call, member, revision));
        if (member.id === event.id) moved = copy;
      }
      return respond(c, call, destination, moved);
    }),
  );

  app.get(
    `${base}/:eventId/instances`,
    route(calendarScopes.eventsRead, (call, c) => {
      const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
      const master = calendar.events.get(c.req.param('eventId') ?? '');
      if (!master) throw notFound();
      if (master.status === 'cancelled') throw deletedResource();
      const query = readQuery(call.url, calendar);
      const originalStart = call.url.searchParams.get('originalStart');
      let instances = isRecurringMaster(master)
        ? seriesInstances(master, calendar, { from: query.timeMin, to: query.timeMax })
        : [master];
      if (!query.showDeleted) instances = instances.filter((e) => e.status !== 'cancelled');
      if (originalStart) {
        instances = instances.filter((e) => {
          const o = e.originalStart;
          if (!o) return false;
          return o.kind === 'date' ? formatDate(o.date) === originalStart : Date.parse(originalStart) === o.instant;
        });
      }
      const sorted = filterAndSort(
        { ...calendar, events: new Map(instances.map((e) => [e.id, e])) },
        { ...query, singleEvents: false, showDeleted: true, q: undefined },
      );
      return c.json(eventsPage(call.state, calendar, sorted, query, `instances:${calendar.id}:${master.id}`));
    }),
  );
}
