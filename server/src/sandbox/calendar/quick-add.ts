import { addDays, type CivilDate, daysInMonth, fromLocal, type LocalDateTime, toLocal, weekday } from './time.js';

/**
 * events.quickAdd's natural-language parser, kept simple: a date word ("today", "tomorrow", "friday",
 * "next monday", "Jan 5", "2025-03-14", "3/14"), a time or range ("at 1pm", "13:30", "noon", "2-3pm",
 * "from 10am to 11:30am"), a duration ("for 2 hours", "for 30 minutes") or "in 20 minutes", and
 * "at <place>" for the location. What is left is the title. With a time the event lasts an hour
 * unless told otherwise; without one it is an all-day event, as in Google Calendar.
 */
export interface QuickAddResult {
  summary: string;
  location?: string;
  start: { kind: 'date'; date: CivilDate } | { kind: 'dateTime'; instant: number };
  end: { kind: 'date'; date: CivilDate } | { kind: 'dateTime'; instant: number };
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAY_RE = '(sun|mon|tue|tues|wed|thu|thur|thurs|fri|sat)(?:day|nesday|rsday|urday)?';
const MONTH_RE =
  '(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)(?:uary|ruary|ch|il|e|y|ust|tember|ober|ember)?\\.?';
const TIME_RE = '(noon|midnight|\\d{1,2}(?::\\d{2})?\\s*(?:am|pm|a\\.m\\.|p\\.m\\.)|\\d{1,2}:\\d{2})';

interface Clock {
  hour: number;
  minute: number;
}

function parseClock(text: string, meridiemHint?: 'am' | 'pm'): Clock | undefined {
  const t = text.trim().toLowerCase().replace(/\./g, '');
  if (t === 'noon') return { hour: 12, minute: 0 };
  if (t === 'midnight') return { hour: 0, minute: 0 };
  const match = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/.exec(t);
  if (!match) return undefined;
  let hour = Number(match[1]);
  const minute = Number(match[2] ?? '0');
  const meridiem = match[3] ?? meridiemHint;
  if (minute > 59 || hour > 23) return undefined;
  if (meridiem === 'pm' && hour < 12) hour += 12;
  if (meridiem === 'am' && hour === 12) hour = 0;
  return { hour, minute };
}

export function parseQuickAdd(text: string, now: number, timeZone: string): QuickAddResult {
  let rest = ` ${text.trim()} `;
  const take = (pattern: RegExp): RegExpExecArray | undefined => {
    const match = pattern.exec(rest);
    if (!match) return undefined;
    rest = `${rest.slice(0, match.index)} ${rest.slice(match.index + match[0].length)}`;
    return match;
  };
  const nowLocal = toLocal(now, timeZone);
  const today: CivilDate = { year: nowLocal.year, month: nowLocal.month, day: nowLocal.day };

  let relativeStart: number | undefined;
  const inMatch = take(/\s(?:in)\s+(\d+)\s*(minutes?|mins?|hours?|hrs?|days?)\b/i);
  if (inMatch) {
    const n = Number(inMatch[1]);
    const unit = (inMatch[2] ?? '').toLowerCase();
    const minutes = unit.startsWith('h') ? n * 60 : unit.startsWith('d') ? n * 1440 : n;
    relativeStart = now + minutes * 60_000;
  }

  let durationMinutes: number | undefined;
  const forMatch = take(/\s(?:for)\s+(an?|half an|\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m)\b/i);
  if (forMatch) {
    const amount = (forMatch[1] ?? '').toLowerCase();
    const n = amount === 'half an' ? 0.5 : amount === 'a' || amount === 'an' ? 1 : Number(amount);
    durationMinutes = Math.round((forMatch[2] ?? '').toLowerCase().startsWith('h') ? n * 60 : n);
  }

  let date: CivilDate | undefined;
  const dayAfter = take(/\s(?:on\s+)?(?:the\s+)?day after tomorrow\b/i);
  if (dayAfter) date = addDays(today, 2);
  const relativeDay = date ? undefined : take(/\s(?:on\s+)?(today|tonight|tomorrow|tmrw)\b/i);
  if (relativeDay) {
    const word = (relativeDay[1] ?? '').toLowerCase();
    date = word === 'tomorrow' || word === 'tmrw' ? addDays(today, 1) : today;
  }
  const iso = date ? undefined : take(/\s(?:on\s+)?(\d{4})-(\d{2})-(\d{2})\b/);
  if (iso) date = { year: Number(iso[1]), month: Number(iso[2]), day: Number(iso[3]) };
  const monthFirst = date
    ? undefined
    : take(new RegExp(`\\s(?:on\\s+)?${MONTH_RE}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?\\b`, 'i'));
  const dayFirst =
    date || monthFirst
      ? undefined
      : take(
          new RegExp(
            `\\s(?:on\\s+)?(?:the\\s+)?(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH_RE}(?:,?\\s+(\\d{4}))?`,
            'i',
          ),
        );
  const named = monthFirst
    ? { month: monthFirst[1], day: monthFirst[2], year: monthFirst[3] }
    : dayFirst
      ? { month: dayFirst[2], day: dayFirst[1], year: dayFirst[3] }
      : undefined;
  if (named) {
    const month = MONTHS.indexOf((named.month ?? '').toLowerCase().slice(0, 3)) + 1;
    const day = Number(named.day);
    let year = named.year ? Number(named.year) : today.year;
    if (!named.year && (month < today.month || (month === today.month && day < today.day))) year += 1;
    date = { year, month, day: Math.min(day, daysInMonth(year, month)) };
  }
  const slash = date ? undefined : take(/\s(?:on\s+)?(\d{1,2})\/(\d{1,2})(?:\/(\d{2,4}))?\b/);
  if (slash) {
    const yearText = slash[3];
    const year = yearText ? (yearText.length === 2 ? 2000 + Number(yearText) : Number(yearText)) : today.year;
    date = { year, month: Number(slash[1]), day: Number(slash[2]) };
  }
  const weekdayMatch = date ? undefined : take(new RegExp(`\\s(?:on\\s+)?(next\\s+|this\\s+)?${WEEKDAY_RE}\\b`, 'i'));
  if (weekdayMatch) {
    const target = WEEKDAYS.findIndex((w) => w.startsWith((weekdayMatch[2] ?? '').toLowerCase().slice(0, 3)));
    let delta = (target - weekday(today) + 7) % 7;
    if (weekdayMatch[1]?.trim().toLowerCase() === 'next' && delta === 0) delta = 7;
    date = addDays(today, delta);
  }

  let startClock: Clock | undefined;
  let endClock: Clock | undefined;
  const range = take(
    new RegExp(
      `\\s(?:from\\s+|at\\s+)?(\\d{1,2}(?::\\d{2})?\\s*(?:am|pm)?|noon)\\s*(?:-|–|to|until|till)\\s*${TIME_RE}`,
      'i',
    ),
  );
  if (range) {
    const endText = range[2] ?? '';
    endClock = parseClock(endText);
    const hint = /pm|p\.m\./i.test(endText) ? 'pm' : /am|a\.m\./i.test(endText) ? 'am' : undefined;
    startClock = parseClock(range[1] ?? '', /am|pm/i.test(range[1] ?? '') ? undefined : hint);
    // "2-3pm" is 2pm to 3pm, but "11-1pm" starts at 11am.
    if (startClock && endClock && hint === 'pm' && startClock.hour > endClock.hour && startClock.hour >= 12) {
      startClock = { hour: startClock.hour - 12, minute: startClock.minute };
    }
  } else {
    const single = take(new RegExp(`\\s(?:at\\s+|@\\s*)?${TIME_RE}(?=\\s|$|,)`, 'i'));
    if (single) startClock = parseClock(single[1] ?? '');
    else {
      // "at 3" without am/pm: business hours, so 1–7 mean the afternoon.
      const bare = take(/\s(?:at|@)\s+(\d{1,2})(?=\s|$|,)/i);
      if (bare) {
        const hour = Number(bare[1]);
        startClock = parseClock(String(hour), hour >= 1 && hour <= 7 ? 'pm' : 'am');
      }
    }
  }

  let location: string | undefined;
  const place = take(/\s(?:at|@)\s+(.+?)\s*$/i);
  if (place?.[1]) location = place[1].trim();

  const summary =
    rest
      .replace(/\s+/g, ' ')
      .replace(/^\s*(?:on|at|from|for|,|-)\s+/i, '')
      .replace(/\s+(?:on|at|from|for|with|,|-)\s*$/i, '')
      .trim() || text.trim();

  const localAt = (day: CivilDate, clock: Clock): LocalDateTime => ({
    ...day,
    hour: clock.hour,
    minute: clock.minute,
    second: 0,
  });
  if (relativeStart !== undefined && !startClock) {
    return {
      summary,
      location,
      start: { kind: 'dateTime', instant: relativeStart },
      end: { kind: 'dateTime', instant: relativeStart + (durationMinutes ?? 60) * 60_000 },
    };
  }
  const day = date ?? today;
  if (!startClock) {
    return { summary, location, start: { kind: 'date', date: day }, end: { kind: 'date', date: addDays(day, 1) } };
  }
  const startInstant = fromLocal(localAt(day, startClock), timeZone);
  let endInstant = startInstant + (durationMinutes ?? 60) * 60_000;
  if (endClock) {
    endInstant = fromLocal(localAt(day, endClock), timeZone);
    if (endInstant <= startInstant) endInstant = fromLocal(localAt(addDays(day, 1), endClock), timeZone);
  }
  return {
    summary,
    location,
    start: { kind: 'dateTime', instant: startInstant },
    end: { kind: 'dateTime', instant: endInstant },
  };
}
