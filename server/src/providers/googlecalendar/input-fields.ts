import { z } from 'zod';

// Defaults are stated in descriptions and applied in `run`, not with `.default()`: zod
// marks defaulted fields as required in output-mode JSON Schema, which would misstate
// the tool's signature.

export const DEFAULT_CALENDAR_ID = 'primary';

export const optionalCalendarId = z
  .string()
  .min(1)
  .optional()
  .describe(
    "Calendar to use: 'primary' (the default) for the user's main calendar, or a calendar id from googlecalendar_list_calendars (often an email address).",
  );

export const calendarId = z
  .string()
  .min(1)
  .describe(
    "Calendar id: 'primary' for the user's main calendar, or an id from googlecalendar_list_calendars (often an email address or …@group.calendar.google.com).",
  );

export const eventId = z
  .string()
  .min(1)
  .describe('Event id: the `id` field of an event from googlecalendar_list_events or googlecalendar_search_events.');

export const pageToken = z
  .string()
  .min(1)
  .optional()
  .describe(
    'next_page_token from the previous call of this tool with the same other parameters, to get the next page.',
  );

export const maxResults = (limit: number, fallback: number) =>
  z
    .int()
    .min(1)
    .max(limit)
    .optional()
    .describe(`Most items to return in one page (1–${limit}, default ${fallback}); follow next_page_token for more.`);

export const timeBound = (bound: 'lower' | 'upper', what: string) =>
  z
    .string()
    .min(1)
    .optional()
    .describe(
      bound === 'lower'
        ? `Only ${what} ending after this time (exclusive). RFC 3339 with offset, e.g. 2026-03-09T00:00:00-05:00.`
        : `Only ${what} starting before this time (exclusive). RFC 3339 with offset, e.g. 2026-03-16T00:00:00-05:00.`,
    );

export const orderBy = z
  .enum(['startTime', 'updated'])
  .optional()
  .describe(
    "Sort order: 'startTime' (ascending, needs single_events true, the default when single_events is true) or 'updated' (last modification).",
  );

export const singleEvents = z
  .boolean()
  .optional()
  .describe(
    'true (default) expands recurring events into their individual occurrences; false returns each recurring series once, as its master event.',
  );

export const sendUpdatesBoolean = z
  .boolean()
  .optional()
  .describe(
    "true emails the change to all guests; false sends no email. When left out Google sends none, except where the calendar's own settings say otherwise.",
  );

export const sendUpdatesMode = z
  .enum(['all', 'externalOnly', 'none'])
  .optional()
  .describe(
    "Who gets an email about the change: 'all' guests, 'externalOnly' (guests outside the user's Google Workspace domain) or 'none' (default).",
  );

export const ianaTimeZone = (purpose: string) =>
  z.string().min(1).optional().describe(`IANA time zone name such as America/New_York or Europe/Paris: ${purpose}`);

export const attendeesEmails = z
  .array(z.email())
  .max(500)
  .optional()
  .describe('Email addresses of the guests to invite, e.g. ["ana@example.com"]. Google adds the organizer itself.');

export const recurrence = z
  .array(z.string().min(1))
  .max(20)
  .optional()
  .describe(
    'RFC 5545 recurrence lines, e.g. ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"] or ["RRULE:FREQ=DAILY;UNTIL=20260331T000000Z", "EXDATE;TZID=Europe/Paris:20260316T090000"]. A bare "FREQ=…" rule is read as RRULE. Leave out for a one-off event.',
  );

export const eventType = z
  .enum(['default', 'outOfOffice', 'focusTime'])
  .optional()
  .describe(
    "Kind of event: 'default' (a normal event), 'outOfOffice' (declines meetings while away) or 'focusTime' (blocks time to work). Out-of-office and focus time need the primary calendar of a Google Workspace user and take no guests.",
  );

export const transparency = z
  .enum(['opaque', 'transparent'])
  .optional()
  .describe("'opaque' (default) shows the user as busy during the event; 'transparent' leaves them free.");

export const visibility = z
  .enum(['default', 'public', 'private', 'confidential'])
  .optional()
  .describe(
    "Who sees the event's details: 'default' (the calendar's sharing setting), 'public', 'private' (only attendees), or 'confidential' (same as private).",
  );

export const guestsCanInviteOthers = z
  .boolean()
  .optional()
  .describe('Whether guests may invite other people (Google defaults to true).');

export const guestsCanModify = z
  .boolean()
  .optional()
  .describe('Whether guests may edit the event (Google defaults to false).');

export const guestsCanSeeOtherGuests = z
  .boolean()
  .optional()
  .describe('Whether guests can see the guest list (Google defaults to true).');

export const durationHours = z
  .int()
  .min(0)
  .max(720)
  .optional()
  .describe('Whole hours of the event length (0–720); added to event_duration_minutes.');

export const durationMinutes = z
  .int()
  .min(0)
  .max(59)
  .optional()
  .describe('Minutes of the event length (0–59); added to event_duration_hour.');

export const createMeetingRoom = z
  .boolean()
  .optional()
  .describe('true attaches a new Google Meet video link to the event (returned in hangoutLink and conferenceData).');

export const calendarColorId = z
  .string()
  .regex(/^\d{1,2}$/)
  .optional()
  .describe('Calendar color id, a key of `calendar` in googlecalendar_get_colors (e.g. "1"…"24").');

export const aclRuleId = z
  .string()
  .min(1)
  .describe('ACL rule id, e.g. "user:ana@example.com", from googlecalendar_list_acl_rules.');

export const aclRole = z
  .enum(['none', 'freeBusyReader', 'reader', 'writer', 'owner'])
  .describe(
    "Access to grant: 'freeBusyReader' (sees only busy times), 'reader' (sees event details), 'writer' (edits events), 'owner' (also manages sharing), 'none' (no access).",
  );

export const sendAclNotifications = z
  .boolean()
  .optional()
  .describe('Whether Google emails the person about the sharing change (Google defaults to true).');

// Google's limits on event reminders: at most 5 overrides, each 0–40320 minutes (four weeks).
// https://developers.google.com/workspace/calendar/api/v3/reference/events#reminders
export const MAX_REMINDER_OVERRIDES = 5;
export const MAX_REMINDER_MINUTES = 40_320;

export const reminders = z
  .strictObject({
    use_default: z
      .boolean()
      .optional()
      .describe(
        "true uses the calendar's default reminders; false uses only `overrides` (none at all when it is empty). Default: true without overrides, false with them.",
      ),
    overrides: z
      .array(
        z.strictObject({
          method: z.enum(['email', 'popup']).describe("'popup' (a notification in the app) or 'email'."),
          minutes: z
            .int()
            .min(0)
            .max(MAX_REMINDER_MINUTES)
            .describe('How long before the start to remind, in minutes (0–40320, i.e. up to four weeks).'),
        }),
      )
      .max(MAX_REMINDER_OVERRIDES)
      .optional()
      .describe('Reminders of this event instead of the calendar defaults, at most 5.'),
  })
  .refine((value) => !(value.use_default === true && (value.overrides?.length ?? 0) > 0), {
    path: ['overrides'],
    message: 'cannot be given with use_default true (Google uses either the defaults or overrides)',
  })
  .optional()
  .describe(
    'Extension: when to remind the user, e.g. {"overrides": [{"method": "popup", "minutes": 10}]}. Default: the calendar\'s default reminders.',
  );

/** Google's `reminders` object from the tool's `reminders` input. */
export function remindersFrom(value: z.output<typeof reminders>) {
  if (value === undefined) return undefined;
  const overrides = value.overrides ?? [];
  const useDefault = value.use_default ?? overrides.length === 0;
  return useDefault
    ? { useDefault }
    : { useDefault, overrides: overrides.map((o) => ({ method: o.method, minutes: o.minutes })) };
}

export const eventColorId = z
  .enum(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'])
  .optional()
  .describe(
    'Extension: event color id, a key of `event` in googlecalendar_get_colors: "1" Lavender, "2" Sage, "3" Grape, "4" Flamingo, "5" Banana, "6" Tangerine, "7" Peacock, "8" Graphite, "9" Blueberry, "10" Basil, "11" Tomato. Default: the calendar\'s color.',
  );
