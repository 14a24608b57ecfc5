import { AppError } from '../../errors.js';
import type { ToolContext } from '../types.js';
import { eventsUrl } from './calendar-api.js';

/** Attendees as Google's `attendees[]`, each address once (case-insensitively). */
export function attendeesFrom(emails: string[]): { email: string }[] {
  const seen = new Set<string>();
  const attendees: { email: string }[] = [];
  for (const raw of emails) {
    const email = raw.trim();
    if (seen.has(email.toLowerCase())) continue;
    seen.add(email.toLowerCase());
    attendees.push({ email });
  }
  return attendees;
}

const RECURRENCE_LINE = /^(RRULE|EXRULE|RDATE|EXDATE)[:;]/i;

/**
 * Google's `recurrence[]`: RFC 5545 RRULE/EXRULE/RDATE/EXDATE lines. A bare rule such as
 * `FREQ=WEEKLY;BYDAY=MO` is taken as an RRULE, since callers often leave the prefix out.
 */
export function recurrenceFrom(field: string, lines: string[]): string[] {
  return lines.map((raw) => {
    const line = raw.trim();
    if (/^FREQ=/i.test(line)) return `RRULE:${line}`;
    if (!RECURRENCE_LINE.test(line)) {
      throw new AppError(
        'tool_input_invalid',
        `${field} entry "${raw}" is not an RFC 5545 line; use e.g. "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10"`,
        { details: { field } },
      );
    }
    if (/^RRULE:/i.test(line) && !/FREQ=/i.test(line)) {
      throw new AppError('tool_input_invalid', `${field} entry "${raw}" has no FREQ=`, { details: { field } });
    }
    return line;
  });
}

/**
 * Asks Google to attach a new Meet link. Only honoured with `conferenceDataVersion=1` on
 * the request; `requestId` must be new per request or Google reuses the earlier answer.
 * https://developers.google.com/workspace/calendar/api/guides/create-events#conferencing
 */
export function meetRequest(): { createRequest: { requestId: string; conferenceSolutionKey: { type: string } } } {
  return { createRequest: { requestId: crypto.randomUUID(), conferenceSolutionKey: { type: 'hangoutsMeet' } } };
}

/** The boolean `send_updates` of the event tools, as Google's `sendUpdates` query value. */
export function sendUpdatesFrom(sendUpdates: boolean | undefined): 'all' | 'none' | undefined {
  if (sendUpdates === undefined) return undefined;
  return sendUpdates ? 'all' : 'none';
}

/** Event length in milliseconds from the hour and minute parts; undefined when neither is given. */
export function durationFrom(hours: number | undefined, minutes: number | undefined): number | undefined {
  if (hours === undefined && minutes === undefined) return undefined;
  const total = (hours ?? 0) * 60 + (minutes ?? 0);
  if (total <= 0) {
    throw new AppError(
      'tool_input_invalid',
      'event_duration_hour and event_duration_minutes add up to zero; an event must last at least a minute',
      { details: { field: 'event_duration_minutes' } },
    );
  }
  return total * 60_000;
}

/**
 * The calendar's own time zone. Read from events.list, which answers with `timeZone` and
 * accepts every scope that may write events (calendars.get does not take calendar.events).
 */
export async function calendarTimeZone(ctx: ToolContext, calendarId: string): Promise<string> {
  const page = await ctx.api.request<{ timeZone?: string }>({
    url: eventsUrl(calendarId),
    query: { maxResults: 1 },
  });
  return page.timeZone ?? 'UTC';
}

/** Drops undefined members so request bodies carry only what the caller set. */
export function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
