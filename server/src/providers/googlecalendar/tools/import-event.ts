import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { eventsUrl } from '../calendar-api.js';
import { attendeesFrom, calendarTimeZone, definedOnly } from '../event-fields.js';
import { assertTimeZone, eventDateTime, parseDateTime, toInstant } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  end_datetime: z
    .string()
    .min(1)
    .describe('When it ends, RFC 3339 ("2026-03-09T16:00:00-05:00", or without offset to read it in timezone).'),
  ical_uid: z
    .string()
    .min(1)
    .max(1024)
    .describe(
      'The event\'s iCalendar UID (RFC 5545 UID) from the system it comes from, e.g. "040000008200E00074C5B7101A82E008@outlook.com". Importing the same UID again updates that copy.',
    ),
  start_datetime: z
    .string()
    .min(1)
    .describe('When it starts, RFC 3339 ("2026-03-09T15:00:00-05:00", or without offset to read it in timezone).'),
  summary: z.string().min(1).max(1024).describe('Title of the event.'),
  attendees_emails: field.attendeesEmails.describe(
    'Email addresses of its guests (they are not emailed by an import).',
  ),
  description: z.string().max(8192).optional().describe('Notes of the event.'),
  location: z.string().max(1024).optional().describe('Where it happens.'),
  status: z
    .enum(['confirmed', 'tentative', 'cancelled'])
    .optional()
    .describe("The event's status in the source system: 'confirmed' (default), 'tentative' or 'cancelled'."),
  timezone: field.ianaTimeZone(
    "zone of the event and of datetimes written without offset. Defaults to the calendar's.",
  ),
});

export const importEvent = defineTool({
  name: 'googlecalendar_import_event',
  description: [
    'Add a private copy of an event that exists in another calendar system (Outlook, an .ics file, another Google account), keyed by its iCalUID,',
    'with an explicit start and end. No invitations are sent, and importing the same ical_uid again updates the copy instead of duplicating it.',
    'To schedule a new event of the user use googlecalendar_create_event.',
    'Returns the imported Google event object (id, iCalUID, htmlLink, start, end).',
  ].join(' '),
  input,
  annotations: {
    title: 'Import event by iCalUID',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsWrite,
  async run(args, ctx) {
    const start = parseDateTime('start_datetime', args.start_datetime);
    const end = parseDateTime('end_datetime', args.end_datetime);
    const requestedZone = args.timezone === undefined ? undefined : assertTimeZone('timezone', args.timezone);
    const needsZone = start.offsetMinutes === undefined || end.offsetMinutes === undefined;
    const timeZone = requestedZone ?? (needsZone ? await calendarTimeZone(ctx, args.calendar_id) : undefined);
    const startsAt = toInstant('start_datetime', start, timeZone);
    const endsAt = toInstant('end_datetime', end, timeZone);
    if (endsAt <= startsAt) {
      throw new AppError('tool_input_invalid', 'end_datetime must be after start_datetime', {
        details: { field: 'end_datetime' },
      });
    }
    return ctx.api.request({
      method: 'POST',
      url: `${eventsUrl(args.calendar_id)}/import`,
      body: definedOnly({
        iCalUID: args.ical_uid,
        summary: args.summary,
        description: args.description,
        location: args.location,
        status: args.status,
        start: eventDateTime(startsAt, timeZone, start.offsetMinutes ?? 0),
        end: eventDateTime(endsAt, timeZone, end.offsetMinutes ?? start.offsetMinutes ?? 0),
        attendees: args.attendees_emails?.length ? attendeesFrom(args.attendees_emails) : undefined,
      }),
    });
  },
});
