import { z } from 'zod';
import { defineTool } from '../../types.js';
import { eventsUrl } from '../calendar-api.js';
import {
  attendeesFrom,
  calendarTimeZone,
  definedOnly,
  durationFrom,
  meetRequest,
  recurrenceFrom,
  sendUpdatesFrom,
} from '../event-fields.js';
import { assertTimeZone, eventDateTime, parseDateTime, toInstant } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const DEFAULT_DURATION_MS = 30 * 60_000;

const input = z.object({
  start_datetime: z
    .string()
    .min(1)
    .describe(
      'When the event starts, RFC 3339: "2026-03-09T15:00:00-05:00" or "2026-03-09T20:00:00Z" is an exact instant; "2026-03-09T15:00:00" (no offset) is a wall-clock time read in timezone.',
    ),
  summary: z.string().min(1).max(1024).describe('Title of the event, e.g. "Call with Ana".'),
  attendees_emails: field.attendeesEmails,
  calendar_id: field.optionalCalendarId,
  create_meeting_room: field.createMeetingRoom,
  description: z.string().max(8192).optional().describe('Notes shown in the event; plain text or simple HTML.'),
  event_duration_hour: field.durationHours,
  event_duration_minutes: field.durationMinutes,
  event_type: field.eventType,
  guests_can_invite_others: field.guestsCanInviteOthers,
  guests_can_modify: field.guestsCanModify,
  guests_can_see_other_guests: field.guestsCanSeeOtherGuests,
  location: z.string().max(1024).optional().describe('Where it happens: an address, a room or a place name.'),
  recurrence: field.recurrence,
  send_updates: field.sendUpdatesBoolean,
  timezone: field.ianaTimeZone(
    "the zone the event is scheduled in and shown in; also gives meaning to a start_datetime without offset. Defaults to the calendar's own time zone.",
  ),
  transparency: field.transparency,
  visibility: field.visibility,
  // Extensions beyond the reference signature (optional; see EXTENSIONS in the signature tests).
  reminders: field.reminders,
  color_id: field.eventColorId,
});

export const createEvent = defineTool({
  name: 'googlecalendar_create_event',
  description: [
    'Create an event in a Google Calendar of the user, from a start time and a length (not an end time).',
    'The length is event_duration_hour + event_duration_minutes; with neither given the event lasts 30 minutes.',
    'The end is computed in real elapsed time, so an event crossing a daylight-saving change still lasts as long as asked.',
    'Can invite guests (attendees_emails, with send_updates to email them), repeat (recurrence RRULEs), add a Google Meet link (create_meeting_room), set reminders (popup or email, up to 5) and a color (color_id).',
    'For a sentence like "lunch with Ana tomorrow at noon" googlecalendar_quick_add_event is simpler; to change an existing event use googlecalendar_update_event;',
    'to copy an event from another calendar system with its iCalUID use googlecalendar_import_event.',
    "Returns Google's event object: id (for later updates), htmlLink (to open it in Google Calendar), start/end, attendees, hangoutLink when a Meet link was made.",
  ].join(' '),
  input,
  annotations: {
    title: 'Create calendar event',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsWrite,
  async run(args, ctx) {
    const calendarId = args.calendar_id ?? field.DEFAULT_CALENDAR_ID;
    // Check everything the caller wrote before any request leaves.
    const start = parseDateTime('start_datetime', args.start_datetime);
    const requestedZone = args.timezone === undefined ? undefined : assertTimeZone('timezone', args.timezone);
    const recurrence = args.recurrence?.length ? recurrenceFrom('recurrence', args.recurrence) : undefined;
    const duration = durationFrom(args.event_duration_hour, args.event_duration_minutes) ?? DEFAULT_DURATION_MS;

    // Google needs a zone for wall-clock times and for every recurring event (so the
    // series keeps its local time across DST); the calendar's own zone is the natural one.
    const needsZone = start.offsetMinutes === undefined || recurrence !== undefined;
    const timeZone = requestedZone ?? (needsZone ? await calendarTimeZone(ctx, calendarId) : undefined);
    const startsAt = toInstant('start_datetime', start, timeZone);
    const offset = start.offsetMinutes ?? 0;

    const body = definedOnly({
      summary: args.summary,
      description: args.description,
      location: args.location,
      start: eventDateTime(startsAt, timeZone, offset),
      end: eventDateTime(startsAt + duration, timeZone, offset),
      attendees: args.attendees_emails?.length ? attendeesFrom(args.attendees_emails) : undefined,
      recurrence,
      eventType: args.event_type,
      transparency: args.transparency,
      visibility: args.visibility,
      guestsCanInviteOthers: args.guests_can_invite_others,
      guestsCanModify: args.guests_can_modify,
      guestsCanSeeOtherGuests: args.guests_can_see_other_guests,
      conferenceData: args.create_meeting_room ? meetRequest() : undefined,
      reminders: field.remindersFrom(args.reminders),
      colorId: args.color_id,
    });

    return ctx.api.request({
      method: 'POST',
      url: eventsUrl(calendarId),
      query: {
        conferenceDataVersion: args.create_meeting_room ? 1 : undefined,
        sendUpdates: sendUpdatesFrom(args.send_updates),
      },
      body,
    });
  },
});
