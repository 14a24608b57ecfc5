import { AppError } from '../../errors.js';

/** A wall-clock reading as written, before any time zone is applied. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

export interface ParsedDateTime {
  wallClock: WallClock;
  /** Minutes east of UTC when the text carried `Z` or `±hh:mm`; undefined for a local time. */
  offsetMinutes: number | undefined;
}

/** Google's `EventDateTime` for a timed event. */
export interface EventDateTime {
  dateTime: string;
  timeZone?: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

// RFC 3339 date-time, leniently: seconds may be left out, `T` may be a space, and the
// offset may be missing (then the tool's `timezone` decides what the wall clock means).
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

function invalid(field: string, value: string, why: string): AppError {
  return new AppError('tool_input_invalid', `${field} "${value}" is not a valid date-time: ${why}`, {
    details: { field },
  });
}

function utcMillis(clock: WallClock): number {
  const date = new Date(0);
  date.setUTCFullYear(clock.year, clock.month - 1, clock.day);
  date.setUTCHours(clock.hour, clock.minute, clock.second, clock.millisecond);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Reads an RFC 3339 date-time; throws `tool_input_invalid` naming `field` when it is not one. */
export function parseDateTime(field: string, value: string): ParsedDateTime {
  const match = DATE_TIME.exec(value.trim());
  if (!match) {
    throw invalid(
      field,
      value,
      'expected RFC 3339 such as 2026-03-09T15:00:00-05:00 (or 2026-03-09T15:00:00 with timezone)',
    );
  }
  const number = (index: number): number => Number(match[index] ?? '0');
  const wallClock: WallClock = {
    year: number(1),
    month: number(2),
    day: number(3),
    hour: number(4),
    minute: number(5),
    second: number(6),
    millisecond: Math.floor(Number(`0.${match[7] ?? '0'}`) * 1000),
  };
  const { year, month, day, hour, minute, second } = wallClock;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw invalid(field, value, 'no such calendar date');
  }
  if (hour > 23 || minute > 59 || second > 59) throw invalid(field, value, 'time of day out of range');

  const offset = match[8];
  let offsetMinutes: number | undefined;
  if (offset === 'Z' || offset === 'z') offsetMinutes = 0;
  else if (offset) {
    const digits = offset.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2));
    if (hours > 23 || minutes > 59) throw invalid(field, value, 'UTC offset out of range');
    offsetMinutes = (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  return { wallClock, offsetMinutes };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws `tool_input_invalid` naming `field` unless `timeZone` is an IANA zone this runtime knows. */
export function assertTimeZone(field: string, timeZone: string): string {
  // Intl also takes bare offsets such as "+05:00" on newer runtimes; Google wants zone names.
  if (!/^[A-Za-z]/.test(timeZone)) {
    throw new AppError('tool_input_invalid', `${field} "${timeZone}" is not an IANA time zone such as Europe/Paris`, {
      details: { field },
    });
  }
  try {
    formatterFor(timeZone);
  } catch (cause) {
    throw new AppError('tool_input_invalid', `${field} "${timeZone}" is not an IANA time zone such as Europe/Paris`, {
      cause,
      details: { field },
    });
  }
  return timeZone;
}

/** The zone's offset from UTC at an instant, in whole minutes (east positive). */
export function offsetMinutesAt(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = utcMillis({
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    millisecond: 0,
  });
  const wholeSecond = Math.floor(instant / 1000) * 1000;
  return Math.round((asUtc - wholeSecond) / MINUTE_MS);
}

/**
 * The instant a wall-clock time names in a zone. Around a DST change this follows the
 * usual calendar rule: a time skipped by the spring-forward gap moves forward by the
 * gap, a time repeated in the fall-back overlap means its first occurrence.
 */
export function wallClockToInstant(clock: WallClock, timeZone: string): number {
  const local = utcMillis(clock);
  const before = offsetMinutesAt(local - DAY_MS, timeZone);
  const after = offsetMinutesAt(local + DAY_MS, timeZone);
  const valid = [...new Set([before, after])]
    .map((offset) => local - offset * MINUTE_MS)
    .filter((instant) => offsetMinutesAt(instant, timeZone) * MINUTE_MS === local - instant);
  if (valid.length > 0) return Math.min(...valid);
  return local - before * MINUTE_MS;
}

/** The instant of a parsed date-time; a local time needs `timeZone`. */
export function toInstant(field: string, parsed: ParsedDateTime, timeZone: string | undefined): number {
  if (parsed.offsetMinutes !== undefined) return utcMillis(parsed.wallClock) - parsed.offsetMinutes * MINUTE_MS;
  if (!timeZone) {
    throw new AppError(
      'tool_input_invalid',
      `${field} has no UTC offset; add one (e.g. Z or -05:00) or give timezone`,
      {
        details: { field },
      },
    );
  }
  return wallClockToInstant(parsed.wallClock, timeZone);
}

const pad = (value: number, width = 2): string => String(Math.abs(value)).padStart(width, '0');

/** RFC 3339 at a fixed offset, to the second, as Google writes event times. */
export function formatWithOffset(instant: number, offsetMinutes: number): string {
  const shifted = new Date(instant + offsetMinutes * MINUTE_MS);
  const date = `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}`;
  const time = `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}`;
  if (offsetMinutes === 0) return `${date}T${time}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  return `${date}T${time}${sign}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
}

/** RFC 3339 with the offset the zone has at that instant (so DST shows in the offset). */
export function formatInZone(instant: number, timeZone: string): string {
  const offset = offsetMinutesAt(instant, timeZone);
  // Keep "+00:00" for zones like Europe/London in winter: the zone is not UTC itself.
  const text = formatWithOffset(instant, offset);
  return offset === 0 ? text.replace(/Z$/, '+00:00') : text;
}

/** An `EventDateTime`: in `timeZone` when one is known, else at the offset the caller wrote. */
export function eventDateTime(instant: number, timeZone: string | undefined, offsetMinutes: number): EventDateTime {
  if (timeZone) return { dateTime: formatInZone(instant, timeZone), timeZone };
  return { dateTime: formatWithOffset(instant, offsetMinutes) };
}

/**
 * Normalizes a time bound for a query (`timeMin`, `timeMax`, `updatedMin`): Google
 * requires RFC 3339 with an offset; a local time is read in `timeZone` when given.
 */
export function queryTime(field: string, value: string, timeZone?: string): string;
export function queryTime(field: string, value: string | undefined, timeZone?: string): string | undefined;
export function queryTime(field: string, value: string | undefined, timeZone?: string): string | undefined {
  if (value === undefined) return undefined;
  const parsed = parseDateTime(field, value);
  return new Date(toInstant(field, parsed, timeZone)).toISOString();
}
