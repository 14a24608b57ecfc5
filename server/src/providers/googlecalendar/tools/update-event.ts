import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool, type ToolContext } from '../../types.js';
import { eventUrl } from '../calendar-api.js';
import {
  attendeesFrom,
  calendarTimeZone,
  definedOnly,
  durationFrom,
  meetRequest,
  recurrenceFrom,
  sendUpdatesFrom,
} from '../event-fields.js';
import {
  assertTimeZone,
  type EventDateTime,
  eventDateTime,
  type ParsedDateTime,
  parseDateTime,
  toInstant,
} from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

interface ExistingEvent {
  start?: { dateTime?: string; date?: string; timeZone?: string };
  end?: { dateTime?: string; date?: string; timeZone?: string };
  attendees?: { email?: string }[];
  recurrence?: string[];
  eventType?: string;
}

const input = z.object({
  calendar_id: field.calendarId,
  event_id: field.eventId,
  attendees_emails: field.attendeesEmails.describe(
    'The complete new guest list (replaces the current one; guests kept keep their RSVP). Pass [] to remove every guest.',
  ),
  create_meeting_room: z
    .boolean()
    .optional()
    .describe('true adds a new Google Meet link; false removes the event’s conference link. Leave out to keep it.'),
  description: z.string().max(8192).optional().describe('New notes of the event (replaces the old ones).'),
  end_datetime: z
    .string()
    .min(1)
    .optional()
    .describe(
      'New end, RFC 3339 ("2026-03-09T16:00:00-05:00", or without offset to read it in timezone). Give this or a duration, not both.',
    ),
  event_duration_hour: field.durationHours.describe(
    'New length, whole hours (0–720), counted from the (new or current) start. Give a duration or end_datetime, not both.',
  ),
  event_duration_minutes: field.durationMinutes.describe(
    'New length, minutes part (0–59); added to event_duration_hour.',
  ),
  event_type: field.eventType.describe(
    "Google does not let an event change its type after creation; if given it must equal the event's current type.",
  ),
  guests_can_invite_others: field.guestsCanInviteOthers,
  guests_can_modify: field.guestsCanModify,
  guests_can_see_other_guests: field.guestsCanSeeOtherGuests,
  location: z.string().max(1024).optional().describe('New location (replaces the old one).'),
  recurrence: field.recurrence.describe(
    'New RFC 5545 recurrence lines for a recurring series (replaces the old rules), e.g. ["RRULE:FREQ=WEEKLY;COUNT=5"].',
  ),
  send_updates: field.sendUpdatesBoolean,
  start_datetime: z
    .string()
    .min(1)
    .optional()
    .describe(
      'New start, RFC 3339 ("2026-03-09T15:00:00-05:00", or without offset to read it in timezone). Without a new end or duration the event keeps its length.',
    ),
  summary: z.string().min(1).max(1024).optional().describe('New title.'),
  timezone: field.ianaTimeZone(
    "the zone for the new times and for start/end datetimes written without offset. Defaults to the event's current zone, else the calendar's.",
  ),
  transparency: field.transparency,
  visibility: field.visibility,
});

type Input = z.output<typeof input>;

function instantOf(moment: ExistingEvent['start'], what: string): number {
  if (!moment?.dateTime) {
    throw new AppError(
      'tool_input_invalid',
      `the event is an all-day event, so its ${what} cannot be kept; give start_datetime and a duration or end_datetime`,
      { details: { field: 'start_datetime' } },
    );
  }
  return Date.parse(moment.dateTime);
}

function offsetOf(moment: ExistingEvent['start']): number {
  return moment?.dateTime ? (parseDateTime('start', moment.dateTime).offsetMinutes ?? 0) : 0;
}

/** The caller's time fields, read and checked before any request leaves. */
interface TimeChange {
  start: ParsedDateTime | undefined;
  end: ParsedDateTime | undefined;
  duration: number | undefined;
  timeZone: string | undefined;
}

function readTimeChange(args: Input): TimeChange | undefined {
  const duration = durationFrom(args.event_duration_hour, args.event_duration_minutes);
  const start = args.start_datetime === undefined ? undefined : parseDateTime('start_datetime', args.start_datetime);
  const end = args.end_datetime === undefined ? undefined : parseDateTime('end_datetime', args.end_datetime);
  const timeZone = args.timezone === undefined ? undefined : assertTimeZone('timezone', args.timezone);
  if (end && duration !== undefined) {
    throw new AppError('tool_input_invalid', 'give either end_datetime or a duration, not both', {
      details: { field: 'end_datetime' },
    });
  }
  if (!start && !end && duration === undefined && !timeZone) return undefined;
  return { start, end, duration, timeZone };
}

/** The new start and end from whichever time fields the caller gave, the rest from the event. */
async function newTimes(
  change: TimeChange,
  args: Input,
  existing: ExistingEvent,
  ctx: ToolContext,
): Promise<{ start: EventDateTime; end: EventDateTime }> {
  const { start, end, duration } = change;
  const recurring = (args.recurrence ?? existing.recurrence ?? []).length > 0;
  const needsZone =
    recurring || Boolean(start && start.offsetMinutes === undefined) || Boolean(end && end.offsetMinutes === undefined);
  const timeZone =
    change.timeZone ??
    existing.start?.timeZone ??
    (needsZone ? await calendarTimeZone(ctx, args.calendar_id) : undefined);

  const startsAt = start ? toInstant('start_datetime', start, timeZone) : instantOf(existing.start, 'start');
  let endsAt: number;
  if (end) endsAt = toInstant('end_datetime', end, timeZone);
  else if (duration !== undefined) endsAt = startsAt + duration;
  else endsAt = startsAt + (instantOf(existing.end, 'end') - instantOf(existing.start, 'start'));
  if (endsAt <= startsAt) {
    throw new AppError('tool_input_invalid', 'the event would end before it starts; check end_datetime', {
      details: { field: 'end_datetime' },
    });
  }
  const offset = start?.offsetMinutes ?? end?.offsetMinutes ?? offsetOf(existing.start);
  return { start: eventDateTime(startsAt, timeZone, offset), end: eventDateTime(endsAt, timeZone, offset) };
}

export const updateEvent = defineTool({
  name: 'googlecalendar_update_event',
  description: [
    'Change an existing Google Calendar event: only the fields you pass change, the rest stay as they are.',
    'Move it with start_datetime (it keeps its length unless you also give end_datetime or a duration), or set a new length alone.',
    'attendees_emails and recurrence replace the whole list. Use googlecalendar_move_event to move it to another calendar,',
    'googlecalendar_delete_event to cancel it. Find the event_id with googlecalendar_list_events or googlecalendar_search_events.',
    'Returns the updated Google event object (id, htmlLink, start, end, attendees, …).',
  ].join(' '),
  input,
  annotations: {
    title: 'Update calendar event',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsWrite,
  async run(args, ctx) {
    const timeChange = readTimeChange(args);
    const recurrence = args.recurrence === undefined ? undefined : recurrenceFrom('recurrence', args.recurrence);
    const needsCurrent =
      timeChange !== undefined || args.attendees_emails !== undefined || args.event_type !== undefined;
    const url = eventUrl(args.calendar_id, args.event_id);
    const existing: ExistingEvent = needsCurrent ? await ctx.api.request<ExistingEvent>({ url }) : {};

    if (args.event_type !== undefined && args.event_type !== (existing.eventType ?? 'default')) {
      throw new AppError(
        'tool_input_invalid',
        `event_type cannot change after creation (the event is "${existing.eventType ?? 'default'}"); delete it and create a new one`,
        { details: { field: 'event_type' } },
      );
    }

    const times = timeChange ? await newTimes(timeChange, args, existing, ctx) : undefined;

    let attendees: { email?: string }[] | undefined;
    if (args.attendees_emails !== undefined) {
      // Reuse the attendee objects of guests who stay, so their RSVP is not reset.
      const current = new Map((existing.attendees ?? []).map((a) => [a.email?.toLowerCase(), a]));
      attendees = attendeesFrom(args.attendees_emails).map((a) => current.get(a.email.toLowerCase()) ?? a);
    }

    const body = definedOnly({
      summary: args.summary,
      description: args.description,
      location: args.location,
      start: times?.start,
      end: times?.end,
      attendees,
      recurrence,
      transparency: args.transparency,
      visibility: args.visibility,
      guestsCanInviteOthers: args.guests_can_invite_others,
      guestsCanModify: args.guests_can_modify,
      guestsCanSeeOtherGuests: args.guests_can_see_other_guests,
      // null clears the conference; only understood with conferenceDataVersion=1.
      conferenceData:
        args.create_meeting_room === undefined ? undefined : args.create_meeting_room ? meetRequest() : null,
    });

    return ctx.api.request({
      method: 'PATCH',
      url,
      query: {
        conferenceDataVersion: args.create_meeting_room === undefined ? undefined : 1,
        sendUpdates: sendUpdatesFrom(args.send_updates),
      },
      body,
    });
  },
});
