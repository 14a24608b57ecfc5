import { expandSeries, type SeriesStart } from './recurrence.js';
import type { CalendarRecord, EventRecord, EventTime } from './state.js';
import { addDays, daysBetween, formatDate, parseDate, startOfDate } from './time.js';

/**
 * Recurring events: a master record carries `recurrence`; its instances are computed, except those
 * changed or cancelled one by one, which are stored as records with `recurringEventId` (exceptions).
 */
const pad = (n: number) => String(n).padStart(2, '0');

/** Google's instance id: master id, `_`, then the original start as 20240115T143000Z (or 20240115 all-day). */
export function instanceId(masterId: string, originalStart: EventTime): string {
  if (originalStart.kind === 'date') return `${masterId}_${formatDate(originalStart.date).replace(/-/g, '')}`;
  const d = new Date(originalStart.instant);
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return `${masterId}_${stamp}`;
}

/** Start and end instants of an event, all-day ones running midnight to midnight in the calendar's zone. */
export function eventSpan(event: EventRecord, timeZone: string): { start: number; end: number } {
  const at = (t: EventTime) => (t.kind === 'date' ? startOfDate(t.date, timeZone) : t.instant);
  return { start: at(event.start), end: at(event.end) };
}

export const seriesZone = (master: EventRecord, calendar: CalendarRecord): string =>
  (master.start.kind === 'dateTime' ? master.start.timeZone : undefined) ?? calendar.timeZone;

export const isRecurringMaster = (event: EventRecord): boolean =>
  event.recurrence !== undefined && event.recurrence.length > 0 && event.recurringEventId === undefined;

function seriesStart(master: EventRecord, calendar: CalendarRecord): SeriesStart {
  return master.start.kind === 'date'
    ? { kind: 'date', date: master.start.date, timeZone: calendar.timeZone }
    : { kind: 'dateTime', instant: master.start.instant, timeZone: seriesZone(master, calendar) };
}

/** The computed instance of a master at one original start, before any stored exception applies. */
function makeInstance(
  master: EventRecord,
  occurrence: { instant: number; date: { year: number; month: number; day: number } },
): EventRecord {
  let start: EventTime;
  let end: EventTime;
  if (master.start.kind === 'date' && master.end.kind === 'date') {
    start = { kind: 'date', date: occurrence.date };
    end = { kind: 'date', date: addDays(occurrence.date, daysBetween(master.start.date, master.end.date)) };
  } else if (master.start.kind === 'dateTime' && master.end.kind === 'dateTime') {
    start = { kind: 'dateTime', instant: occurrence.instant, timeZone: master.start.timeZone };
    end = {
      kind: 'dateTime',
      instant: occurrence.instant + (master.end.instant - master.start.instant),
      timeZone: master.end.timeZone,
    };
  } else {
    throw new Error('a series mixes date and dateTime');
  }
  const { recurrence: _recurrence, ...rest } = master;
  return { ...rest, id: instanceId(master.id, start), start, end, recurringEventId: master.id, originalStart: start };
}

export interface SeriesWindow {
  /** Keep instances ending after this instant. */
  from?: number;
  /** Keep instances starting before this instant. */
  to?: number;
  limit?: number;
}

const OPEN_ENDED_LIMIT = 730;

/** The instances of a series overlapping a window, stored exceptions (even cancelled ones) in place. */
export function seriesInstances(master: EventRecord, calendar: CalendarRecord, window: SeriesWindow): EventRecord[] {
  if (!isRecurringMaster(master) || !master.recurrence) return [];
  const span = eventSpan(master, calendar.timeZone);
  const duration = span.end - span.start;
  const occurrences = expandSeries(seriesStart(master, calendar), master.recurrence, {
    after: window.from === undefined ? undefined : window.from - duration - 86_400_000,
    before: window.to,
    limit: window.limit ?? OPEN_ENDED_LIMIT,
  });
  const exceptions = new Map<string, EventRecord>();
  for (const event of calendar.events.values()) {
    if (event.recurringEventId === master.id) exceptions.set(event.id, event);
  }
  const out: EventRecord[] = [];
  for (const occurrence of occurrences) {
    const generated = makeInstance(master, occurrence);
    const stored = exceptions.get(generated.id);
    exceptions.delete(generated.id);
    out.push(stored ?? generated);
  }
  out.push(...exceptions.values());
  return out.filter((event) => {
    const s = eventSpan(event, calendar.timeZone);
    const endsAfter = window.from === undefined || s.end > window.from || (s.end === s.start && s.start >= window.from);
    return endsAfter && (window.to === undefined || s.start < window.to);
  });
}

/** Resolves `masterId_20240115T143000Z` to the computed instance when that occurrence exists. */
export function virtualInstance(calendar: CalendarRecord, id: string): EventRecord | undefined {
  const cut = id.lastIndexOf('_');
  if (cut < 0) return undefined;
  const master = calendar.events.get(id.slice(0, cut));
  const stamp = id.slice(cut + 1);
  if (!master || !isRecurringMaster(master)) return undefined;
  const match = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(stamp);
  if (!match) return undefined;
  const date = parseDate(`${match[1]}-${match[2]}-${match[3]}`);
  if (!date) return undefined;
  const at =
    match[4] === undefined
      ? startOfDate(date, calendar.timeZone)
      : Date.UTC(date.year, date.month - 1, date.day, Number(match[4]), Number(match[5]), Number(match[6]));
  return seriesInstances(master, calendar, { from: at - 1, to: at + 86_400_000 * 2 }).find((e) => e.id === id);
}
