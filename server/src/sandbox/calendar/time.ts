/**
 * Civil dates, wall-clock times and time-zone arithmetic on top of Intl, which knows the IANA database.
 * Instants are milliseconds since the epoch, like the sandbox clock.
 */
export interface CivilDate {
  year: number;
  month: number; // 1-12
  day: number;
}

export interface LocalDateTime extends CivilDate {
  hour: number;
  minute: number;
  second: number;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function toLocal(instant: number, timeZone: string): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

const localAsUtc = (local: LocalDateTime): number =>
  Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);

/** Offset of the zone from UTC at an instant, in milliseconds (New York in winter: -5 h). */
export function offsetAt(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return localAsUtc(toLocal(whole, timeZone)) - whole;
}

/** The instant a wall-clock time names in a zone; a time skipped by a DST jump moves forward like Google does. */
export function fromLocal(local: LocalDateTime, timeZone: string): number {
  const guess = localAsUtc(local);
  const first = guess - offsetAt(guess, timeZone);
  const second = guess - offsetAt(first, timeZone);
  return offsetAt(second, timeZone) === offsetAt(first, timeZone) ? second : Math.max(first, second);
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Etc/Zulu', 'Zulu', 'UCT', 'Etc/UCT', 'Universal']);

/** RFC 3339 with the zone's offset at that instant, `Z` for UTC, as Calendar renders `dateTime`. */
export function formatDateTime(instant: number, timeZone: string): string {
  const local = toLocal(instant, timeZone);
  const body = `${formatDate(local)}T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}`;
  if (UTC_NAMES.has(timeZone)) return `${body}Z`;
  const offsetMinutes = Math.round(offsetAt(instant, timeZone) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${body}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export const formatDate = (date: CivilDate): string => `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;

export const formatTimestamp = (instant: number): string => new Date(instant).toISOString();

export function parseDate(value: string): CivilDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  if (date.month < 1 || date.month > 12 || date.day < 1 || date.day > daysInMonth(date.year, date.month)) {
    return undefined;
  }
  return date;
}

/** A `dateTime` as written: wall-clock fields plus the offset when it carries one. */
export interface ParsedDateTime {
  local: LocalDateTime;
  offsetMs?: number;
}

export function parseDateTime(value: string): ParsedDateTime | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|z|[+-]\d{2}:?\d{2})?$/.exec(value);
  if (!match?.[1]) return undefined;
  const date = parseDate(match[1]);
  const hour = Number(match[2]);
  const minute = Number(match[3]);
  const second = Number(match[4] ?? '0');
  if (!date || hour > 23 || minute > 59 || second > 60) return undefined;
  const local = { ...date, hour, minute, second: Math.min(second, 59) };
  const zone = match[5];
  if (zone === undefined) return { local };
  if (zone === 'Z' || zone === 'z') return { local, offsetMs: 0 };
  const digits = zone.replace(':', '');
  const sign = digits.startsWith('-') ? -1 : 1;
  const offsetMs = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
  return { local, offsetMs };
}

/** An RFC 3339 timestamp with an explicit offset (what timeMin, timeMax and updatedMin require). */
export function parseInstant(value: string): number | undefined {
  const parsed = parseDateTime(value);
  if (parsed?.offsetMs === undefined) return undefined;
  return localAsUtc(parsed.local) - parsed.offsetMs;
}

/** Instant of a wall-clock time, using the written offset when there is one, else the zone. */
export function resolveDateTime(parsed: ParsedDateTime, timeZone: string): number {
  if (parsed.offsetMs !== undefined) return localAsUtc(parsed.local) - parsed.offsetMs;
  return fromLocal(parsed.local, timeZone);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const civilToDays = (date: CivilDate): number => Math.floor(Date.UTC(date.year, date.month - 1, date.day) / DAY_MS);

function daysToCivil(days: number): CivilDate {
  const d = new Date(days * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export const addDays = (date: CivilDate, days: number): CivilDate => daysToCivil(civilToDays(date) + days);

export const daysBetween = (from: CivilDate, to: CivilDate): number => civilToDays(to) - civilToDays(from);

/** 0 = Sunday … 6 = Saturday. */
export const weekday = (date: CivilDate): number => new Date(civilToDays(date) * DAY_MS).getUTCDay();

export const compareDates = (a: CivilDate, b: CivilDate): number => civilToDays(a) - civilToDays(b);

/** Midnight starting a civil date in a zone: where an all-day event begins for overlap tests. */
export const startOfDate = (date: CivilDate, timeZone: string): number =>
  fromLocal({ ...date, hour: 0, minute: 0, second: 0 }, timeZone);
