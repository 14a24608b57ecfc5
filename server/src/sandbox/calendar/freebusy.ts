import type { Hono } from 'hono';
import { z } from 'zod';
import type { SandboxContext } from '../context.js';
import { readJson, routeFactory } from './call.js';
import { badRequest, CalendarApiError, missing } from './errors.js';
import { parseBody } from './event-input.js';
import { overlaps } from './event-list.js';
import { eventSpan, isRecurringMaster, seriesInstances } from './event-series.js';
import { calendarScopes } from './scopes.js';
import type { CalendarRecord, EventRecord } from './state.js';
import { formatDateTime, formatTimestamp, isValidTimeZone, parseInstant } from './time.js';

/** POST /freeBusy: merged busy blocks per calendar; unknown calendars get a per-calendar notFound error. */
const queryInput = z.object({
  timeMin: z.string().nullish(),
  timeMax: z.string().nullish(),
  timeZone: z.string().nullish(),
  groupExpansionMax: z.number().int().nullish(),
  calendarExpansionMax: z.number().int().nullish(),
  items: z.array(z.object({ id: z.string() })).nullish(),
});

const MAX_CALENDARS = 50;

function busyEvents(calendar: CalendarRecord, from: number, to: number): EventRecord[] {
  const out: EventRecord[] = [];
  for (const event of calendar.events.values()) {
    if (isRecurringMaster(event)) {
      if (event.status !== 'cancelled') out.push(...seriesInstances(event, calendar, { from, to }));
    } else if (!event.recurringEventId || !calendar.events.get(event.recurringEventId)) {
      out.push(event);
    }
  }
  // Free time: cancelled or transparent events, and invitations the user declined.
  return out.filter(
    (e) =>
      e.status !== 'cancelled' &&
      e.transparency !== 'transparent' &&
      !e.attendees?.some((a) => a.self && a.responseStatus === 'declined'),
  );
}

export function registerFreeBusyRoutes(app: Hono, ctx: SandboxContext): void {
  const route = routeFactory(ctx);
  app.post(
    '/freeBusy',
    route(calendarScopes.freeBusy, async (call, c) => {
      const input = parseBody(queryInput, await readJson(c));
      if (!input.timeMin) throw missing('Missing timeMin.');
      if (!input.timeMax) throw missing('Missing timeMax.');
      const from = parseInstant(input.timeMin);
      const to = parseInstant(input.timeMax);
      if (from === undefined) throw badRequest('Bad Request', 'badRequest');
      if (to === undefined) throw badRequest('Bad Request', 'badRequest');
      if (from >= to) throw new CalendarApiError(400, 'timeRangeEmpty', 'The specified time range is empty.');
      const timeZone = input.timeZone || 'UTC';
      if (!isValidTimeZone(timeZone)) throw badRequest('Invalid time zone.');
      const items = input.items ?? [];
      if (items.length > MAX_CALENDARS) {
        throw badRequest('The number of calendars requested is too large.', 'tooManyCalendarsRequested');
      }
      const calendars: Record<string, unknown> = {};
      for (const { id } of items) {
        const calendar = call.state.calendars.get(id === 'primary' ? call.state.user.email : id);
        if (!calendar) {
          calendars[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
          continue;
        }
        const spans = busyEvents(calendar, from, to)
          .map((e) => eventSpan(e, calendar.timeZone))
          .filter((span) => span.end > span.start && overlaps(span, from, to))
          .map((span) => ({ start: Math.max(span.start, from), end: Math.min(span.end, to) }))
          .sort((a, b) => a.start - b.start);
        const merged: { start: number; end: number }[] = [];
        for (const span of spans) {
          const last = merged[merged.length - 1];
          if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
          else merged.push({ ...span });
        }
        calendars[id] = {
          busy: merged.map((b) => ({ start: formatDateTime(b.start, timeZone), end: formatDateTime(b.end, timeZone) })),
        };
      }
      return c.json({
        kind: 'calendar#freeBusy',
        timeMin: formatTimestamp(from),
        timeMax: formatTimestamp(to),
        calendars,
      });
    }),
  );
}
