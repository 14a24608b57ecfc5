import { badRequest } from './errors.js';
import {
  addDays,
  type CivilDate,
  compareDates,
  daysInMonth,
  formatDate,
  fromLocal,
  type LocalDateTime,
  parseDate,
  toLocal,
  weekday,
} from './time.js';

/**
 * RFC 5545 recurrence, the subset Calendar users write: RRULE with FREQ DAILY/WEEKLY/MONTHLY/YEARLY,
 * INTERVAL, COUNT, UNTIL, BYDAY (with ordinals for monthly/yearly), BYMONTHDAY, BYMONTH, BYSETPOS, WKST;
 * plus EXDATE and RDATE lines.
 */
type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';

interface WeekdayRule {
  ordinal?: number;
  day: number; // 0 = Sunday
}

interface RRule {
  freq: Frequency;
  interval: number;
  count?: number;
  until?: { local: LocalDateTime; utc: boolean; dateOnly: boolean };
  byDay: WeekdayRule[];
  byMonthDay: number[];
  byMonth: number[];
  bySetPos: number[];
  weekStart: number;
}

/** When an occurrence happens: a civil date for all-day series, a wall-clock time in the series zone otherwise. */
export type SeriesStart =
  | { kind: 'date'; date: CivilDate; timeZone: string }
  | { kind: 'dateTime'; instant: number; timeZone: string };

export interface Occurrence {
  /** Instant the occurrence starts (midnight in the series zone for all-day series). */
  instant: number;
  date: CivilDate;
}

const DAY_CODES = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const invalidRule = () => badRequest('Invalid recurrence rule.');

function parseIcalDateTime(value: string): { local: LocalDateTime; utc: boolean; dateOnly: boolean } | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(value);
  if (!match) return undefined;
  const date = parseDate(`${match[1]}-${match[2]}-${match[3]}`);
  if (!date) return undefined;
  return {
    local: { ...date, hour: Number(match[4] ?? 0), minute: Number(match[5] ?? 0), second: Number(match[6] ?? 0) },
    utc: match[7] === 'Z',
    dateOnly: match[4] === undefined,
  };
}

function parseIntList(value: string, min: number, max: number, allowNegative: boolean): number[] {
  return value.split(',').map((part) => {
    const n = Number(part);
    if (!Number.isInteger(n) || Math.abs(n) < min || Math.abs(n) > max || (!allowNegative && n < 0)) {
      throw invalidRule();
    }
    return n;
  });
}

export function parseRRule(line: string): RRule {
  const body = line.replace(/^RRULE:/i, '');
  const fields = new Map<string, string>();
  for (const pair of body.split(';')) {
    const [key, value] = pair.split('=');
    if (!key || value === undefined || value === '') throw invalidRule();
    fields.set(key.toUpperCase(), value.toUpperCase());
  }
  const freq = fields.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY' && freq !== 'MONTHLY' && freq !== 'YEARLY') throw invalidRule();
  const rule: RRule = { freq, interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], weekStart: 1 };
  for (const [key, value] of fields) {
    switch (key) {
      case 'FREQ':
        break;
      case 'INTERVAL':
        rule.interval = parseIntList(value, 1, 1000, false)[0] ?? 1;
        break;
      case 'COUNT':
        rule.count = parseIntList(value, 1, 100_000, false)[0];
        break;
      case 'UNTIL': {
        const until = parseIcalDateTime(value);
        if (!until) throw invalidRule();
        rule.until = until;
        break;
      }
      case 'BYDAY':
        rule.byDay = value.split(',').map((part) => {
          const match = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/.exec(part);
          if (!match?.[2]) throw invalidRule();
          const ordinal = match[1] === undefined ? undefined : Number(match[1]);
          if (ordinal === 0) throw invalidRule();
          return { ordinal, day: DAY_CODES.indexOf(match[2]) };
        });
        break;
      case 'BYMONTHDAY':
        rule.byMonthDay = parseIntList(value, 1, 31, true);
        break;
      case 'BYMONTH':
        rule.byMonth = parseIntList(value, 1, 12, false);
        break;
      case 'BYSETPOS':
        rule.bySetPos = parseIntList(value, 1, 366, true);
        break;
      case 'WKST': {
        const day = DAY_CODES.indexOf(value);
        if (day < 0) throw invalidRule();
        rule.weekStart = day;
        break;
      }
      default:
        // BYHOUR, BYYEARDAY, BYWEEKNO…: accepted by Google, not emulated here.
        break;
    }
  }
  if (rule.count !== undefined && rule.until !== undefined) throw invalidRule();
  return rule;
}

/** Validates a `recurrence` array as events.insert does: RRULE, EXRULE, RDATE and EXDATE lines only. */
export function validateRecurrence(lines: string[]): void {
  let rules = 0;
  for (const line of lines) {
    const name = line.split(/[:;]/, 1)[0]?.toUpperCase();
    if (name === 'RRULE') {
      parseRRule(line);
      rules += 1;
    } else if (name === 'EXDATE' || name === 'RDATE') {
      parseDateList(line);
    } else if (name !== 'EXRULE') {
      throw invalidRule();
    }
  }
  if (rules > 1) throw invalidRule();
}

interface DateListEntry {
  local: LocalDateTime;
  utc: boolean;
  dateOnly: boolean;
  timeZone?: string;
}

/** `EXDATE;TZID=America/New_York:20240115T093000,20240116T093000` and friends. */
function parseDateList(line: string): DateListEntry[] {
  const colon = line.indexOf(':');
  if (colon < 0) throw invalidRule();
  const params = line.slice(0, colon).split(';').slice(1);
  const timeZone = params.find((p) => p.toUpperCase().startsWith('TZID='))?.slice(5);
  return line
    .slice(colon + 1)
    .split(',')
    .map((value) => {
      const parsed = parseIcalDateTime(value.trim());
      if (!parsed) throw invalidRule();
      return { ...parsed, timeZone };
    });
}

function monthDays(rule: RRule, year: number, month: number, fallbackDay: number): number[] {
  const dim = daysInMonth(year, month);
  let days: number[];
  if (rule.byMonthDay.length > 0) {
    days = rule.byMonthDay.map((n) => (n > 0 ? n : dim + 1 + n)).filter((d) => d >= 1 && d <= dim);
    if (rule.byDay.length > 0) {
      days = days.filter((d) => rule.byDay.some((w) => w.day === weekday({ year, month, day: d })));
    }
  } else if (rule.byDay.length > 0) {
    days = [];
    for (const w of rule.byDay) {
      const matching: number[] = [];
      for (let d = 1; d <= dim; d++) if (weekday({ year, month, day: d }) === w.day) matching.push(d);
      if (w.ordinal === undefined) days.push(...matching);
      else {
        const pick = w.ordinal > 0 ? matching[w.ordinal - 1] : matching[matching.length + w.ordinal];
        if (pick !== undefined) days.push(pick);
      }
    }
  } else {
    days = fallbackDay <= dim ? [fallbackDay] : [];
  }
  return [...new Set(days)].sort((a, b) => a - b);
}

function applySetPos(rule: RRule, dates: CivilDate[]): CivilDate[] {
  if (rule.bySetPos.length === 0) return dates;
  const picked = rule.bySetPos
    .map((pos) => (pos > 0 ? dates[pos - 1] : dates[dates.length + pos]))
    .filter((d): d is CivilDate => d !== undefined);
  return picked.sort(compareDates);
}

/** Candidate dates of one period (a day, week, month or year) of the rule, in order. */
function periodDates(rule: RRule, first: CivilDate, period: number): CivilDate[] {
  const step = period * rule.interval;
  const inMonths = (d: CivilDate) => rule.byMonth.length === 0 || rule.byMonth.includes(d.month);
  switch (rule.freq) {
    case 'DAILY': {
      const date = addDays(first, step);
      const dayOk = rule.byDay.length === 0 || rule.byDay.some((w) => w.day === weekday(date));
      const monthDayOk = rule.byMonthDay.length === 0 || rule.byMonthDay.includes(date.day);
      return dayOk && monthDayOk && inMonths(date) ? [date] : [];
    }
    case 'WEEKLY': {
      const weekBegin = addDays(first, -((weekday(first) - rule.weekStart + 7) % 7) + 7 * step);
      const days = rule.byDay.length > 0 ? rule.byDay.map((w) => w.day) : [weekday(first)];
      const dates = [...new Set(days)].map((day) => addDays(weekBegin, (day - rule.weekStart + 7) % 7));
      return applySetPos(rule, dates.filter(inMonths).sort(compareDates));
    }
    case 'MONTHLY': {
      const monthIndex = first.month - 1 + step;
      const year = first.year + Math.floor(monthIndex / 12);
      const month = (monthIndex % 12) + 1;
      if (!inMonths({ year, month, day: 1 })) return [];
      return applySetPos(
        rule,
        monthDays(rule, year, month, first.day).map((day) => ({ year, month, day })),
      );
    }
    case 'YEARLY': {
      const year = first.year + step;
      const months = rule.byMonth.length > 0 ? rule.byMonth : [first.month];
      const dates: CivilDate[] = [];
      for (const month of [...months].sort((a, b) => a - b)) {
        for (const day of monthDays(rule, year, month, first.day)) dates.push({ year, month, day });
      }
      return applySetPos(rule, dates);
    }
  }
}

/** First day of a period, to stop a rule whose periods are empty (BYMONTHDAY=31 in short months) in time. */
function periodStart(rule: RRule, first: CivilDate, period: number): CivilDate {
  const step = period * rule.interval;
  switch (rule.freq) {
    case 'DAILY':
      return addDays(first, step);
    case 'WEEKLY':
      return addDays(first, -((weekday(first) - rule.weekStart + 7) % 7) + 7 * step);
    case 'MONTHLY': {
      const monthIndex = first.month - 1 + step;
      return { year: first.year + Math.floor(monthIndex / 12), month: (monthIndex % 12) + 1, day: 1 };
    }
    case 'YEARLY':
      return { year: first.year + step, month: 1, day: 1 };
  }
}

export interface ExpandOptions {
  /** Stop once occurrences start at or after this instant. */
  before?: number;
  /** Leave out (but still count, for COUNT) occurrences starting before this instant. */
  after?: number;
  /** Hard cap on occurrences produced, for open-ended series. */
  limit: number;
}

const MAX_PERIODS = 50_000;

/**
 * Occurrence starts of a series in order, the first one being the event's own start (Google counts it
 * even when it does not match the rule). EXDATEs remove occurrences, RDATEs add them.
 */
export function expandSeries(start: SeriesStart, recurrence: string[], options: ExpandOptions): Occurrence[] {
  const zone = start.timeZone;
  const firstLocal: LocalDateTime =
    start.kind === 'dateTime' ? toLocal(start.instant, zone) : { ...start.date, hour: 0, minute: 0, second: 0 };
  const firstDate: CivilDate = { year: firstLocal.year, month: firstLocal.month, day: firstLocal.day };
  const at = (date: CivilDate): Occurrence => {
    const day = { year: date.year, month: date.month, day: date.day };
    return { instant: fromLocal({ ...firstLocal, ...day }, zone), date: day };
  };
  const entryInstant = (entry: DateListEntry): number =>
    entry.utc
      ? Date.UTC(entry.local.year, entry.local.month - 1, entry.local.day, entry.local.hour, entry.local.minute)
      : fromLocal(entry.local, entry.timeZone ?? zone);

  const ruleLine = recurrence.find((line) => line.toUpperCase().startsWith('RRULE'));
  const excluded = new Set<string>();
  const extra: Occurrence[] = [];
  for (const line of recurrence) {
    const name = line.split(/[:;]/, 1)[0]?.toUpperCase();
    if (name !== 'EXDATE' && name !== 'RDATE') continue;
    for (const entry of parseDateList(line)) {
      const occurrence =
        start.kind === 'date' || entry.dateOnly ? at(entry.local) : { instant: entryInstant(entry), date: entry.local };
      if (name === 'EXDATE')
        excluded.add(start.kind === 'date' ? formatDate(occurrence.date) : String(occurrence.instant));
      else extra.push(occurrence);
    }
  }
  const keyOf = (o: Occurrence) => (start.kind === 'date' ? formatDate(o.date) : String(o.instant));

  const produced: Occurrence[] = [];
  const pastEnd = (o: Occurrence) => options.before !== undefined && o.instant >= options.before;
  const rule = ruleLine ? parseRRule(ruleLine) : undefined;
  const untilInstant =
    rule?.until && !rule.until.dateOnly
      ? rule.until.utc
        ? Date.UTC(
            rule.until.local.year,
            rule.until.local.month - 1,
            rule.until.local.day,
            rule.until.local.hour,
            rule.until.local.minute,
            rule.until.local.second,
          )
        : fromLocal(rule.until.local, zone)
      : undefined;
  const afterUntil = (o: Occurrence): boolean => {
    if (!rule?.until) return false;
    if (start.kind === 'date' || untilInstant === undefined) return compareDates(o.date, rule.until.local) > 0;
    return o.instant > untilInstant;
  };

  let generated = 0;
  const consider = (o: Occurrence): boolean => {
    generated += 1;
    if (!excluded.has(keyOf(o)) && o.instant >= (options.after ?? Number.NEGATIVE_INFINITY)) produced.push(o);
    return rule?.count !== undefined && generated >= rule.count;
  };

  const first = at(firstDate);
  let done = pastEnd(first) || consider(first);
  for (let period = 0; rule && !done && period < MAX_PERIODS; period++) {
    const anchor = at(periodStart(rule, firstDate, period));
    if (
      compareDates(anchor.date, firstDate) > 0 &&
      (afterUntil(anchor) || pastEnd(anchor) || anchor.date.year > 2200)
    ) {
      break;
    }
    for (const date of periodDates(rule, firstDate, period)) {
      if (compareDates(date, firstDate) <= 0) continue;
      const occurrence = at(date);
      if (afterUntil(occurrence) || pastEnd(occurrence) || produced.length >= options.limit) {
        done = true;
        break;
      }
      if (consider(occurrence)) {
        done = true;
        break;
      }
    }
  }
  for (const o of extra) {
    const inWindow = !pastEnd(o) && o.instant >= (options.after ?? Number.NEGATIVE_INFINITY);
    if (inWindow && !excluded.has(keyOf(o)) && !produced.some((p) => keyOf(p) === keyOf(o))) produced.push(o);
  }
  return produced.sort((a, b) => a.instant - b.instant).slice(0, options.limit);
}
