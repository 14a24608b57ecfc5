import { z } from 'zod';
import { badRequest, CalendarApiError, missing } from './errors.js';
import { isValidEventId, newEventId, newMeetCode } from './ids.js';
import { eventColors } from './palette.js';
import { validateRecurrence } from './recurrence.js';
import type { Attendee, CalendarRecord, ConferenceData, EventRecord, EventTime, Person, Reminder } from './state.js';
import { compareDates, isValidTimeZone, parseDate, parseDateTime, resolveDateTime } from './time.js';

/**
 * The writable part of an Event resource, as events.insert/update/patch accept it. Read-only fields
 * (kind, etag, htmlLink, created, creator…) are dropped, as Google ignores them in request bodies.
 */
const eventDateTime = z.object({
  date: z.string().nullish(),
  dateTime: z.string().nullish(),
  timeZone: z.string().nullish(),
});

const reminder = z.object({ method: z.enum(['email', 'popup']), minutes: z.number().int() });

const attendee = z.object({
  email: z.string().nullish(),
  displayName: z.string().nullish(),
  optional: z.boolean().nullish(),
  resource: z.boolean().nullish(),
  responseStatus: z.enum(['needsAction', 'declined', 'tentative', 'accepted']).nullish(),
  comment: z.string().nullish(),
  additionalGuests: z.number().int().min(0).nullish(),
});

const entryPoint = z.object({
  entryPointType: z.string(),
  uri: z.string(),
  label: z.string().optional(),
  pin: z.string().optional(),
  regionCode: z.string().optional(),
});

const conferenceData = z.object({
  createRequest: z
    .object({
      requestId: z.string().nullish(),
      conferenceSolutionKey: z.object({ type: z.string() }).nullish(),
    })
    .nullish(),
  entryPoints: z.array(entryPoint).nullish(),
  conferenceSolution: z
    .object({ key: z.object({ type: z.string() }), name: z.string().optional(), iconUri: z.string().optional() })
    .nullish(),
  conferenceId: z.string().nullish(),
  notes: z.string().nullish(),
});

const stringMap = z.record(z.string(), z.string());

export const eventInputSchema = z.object({
  id: z.string().nullish(),
  status: z.enum(['confirmed', 'tentative', 'cancelled']).nullish(),
  summary: z.string().nullish(),
  description: z.string().nullish(),
  location: z.string().nullish(),
  colorId: z.string().nullish(),
  start: eventDateTime.nullish(),
  end: eventDateTime.nullish(),
  endTimeUnspecified: z.boolean().nullish(),
  recurrence: z.array(z.string()).nullish(),
  attendees: z.array(attendee).nullish(),
  reminders: z.object({ useDefault: z.boolean().nullish(), overrides: z.array(reminder).nullish() }).nullish(),
  conferenceData: conferenceData.nullish(),
  visibility: z.enum(['default', 'public', 'private', 'confidential']).nullish(),
  transparency: z.enum(['opaque', 'transparent']).nullish(),
  extendedProperties: z.object({ private: stringMap.nullish(), shared: stringMap.nullish() }).nullish(),
  guestsCanInviteOthers: z.boolean().nullish(),
  guestsCanModify: z.boolean().nullish(),
  guestsCanSeeOtherGuests: z.boolean().nullish(),
  anyoneCanAddSelf: z.boolean().nullish(),
  source: z.object({ url: z.string(), title: z.string().nullish() }).nullish(),
  eventType: z.enum(['default', 'outOfOffice', 'focusTime', 'workingLocation', 'birthday', 'fromGmail']).nullish(),
  iCalUID: z.string().nullish(),
  sequence: z.number().int().min(0).nullish(),
});

export type EventInput = z.infer<typeof eventInputSchema>;
type EventDateTimeInput = z.infer<typeof eventDateTime>;

/** Parses a request body against a schema, failing the way Google does for a malformed field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const location = issue?.path.join('.') ?? '';
  throw new CalendarApiError(400, 'invalid', location ? `Invalid value for: ${location}` : 'Invalid Value', {
    location,
    locationType: 'other',
  });
}

const MAX_REMINDERS = 5;
const MAX_REMINDER_MINUTES = 40_320; // four weeks

export interface EventWriteContext {
  user: { email: string };
  calendar: CalendarRecord;
  now: number;
  revision: number;
  conferenceDataVersion: number;
  existing?: EventRecord;
  /** For a fresh exception of a recurring series: the instance being modified. */
  instanceOf?: { recurringEventId: string; originalStart: EventTime; id: string };
}

function toEventTime(
  value: EventDateTimeInput | null | undefined,
  which: 'start' | 'end',
  calendarTimeZone: string,
  recurring: boolean,
): EventTime {
  if (!value || (!value.date && !value.dateTime)) throw missing(`Missing ${which} time.`);
  if (value.timeZone && !isValidTimeZone(value.timeZone)) {
    throw badRequest(`Invalid time zone definition for ${which} time.`);
  }
  if (value.date && value.dateTime) throw badRequest(`Invalid ${which} time.`);
  if (value.date) {
    const date = parseDate(value.date);
    if (!date) throw badRequest(`Invalid ${which} time.`);
    return { kind: 'date', date };
  }
  const parsed = parseDateTime(value.dateTime ?? '');
  if (!parsed) throw badRequest(`Invalid ${which} time.`);
  // Quirk: a recurring series is expanded in its own zone, so Google insists on one.
  if (recurring && !value.timeZone) throw missing(`Missing time zone definition for ${which} time.`);
  const instant = resolveDateTime(parsed, value.timeZone ?? calendarTimeZone);
  return value.timeZone ? { kind: 'dateTime', instant, timeZone: value.timeZone } : { kind: 'dateTime', instant };
}

function checkRange(start: EventTime, end: EventTime): void {
  if (start.kind !== end.kind) {
    throw badRequest('Start and end times must either both be date or both be dateTime.');
  }
  const empty =
    start.kind === 'date' && end.kind === 'date'
      ? compareDates(end.date, start.date) <= 0
      : start.kind === 'dateTime' && end.kind === 'dateTime' && end.instant < start.instant;
  if (empty) throw new CalendarApiError(400, 'timeRangeEmpty', 'The specified time range is empty.');
}

function toReminders(value: EventInput['reminders']): EventRecord['reminders'] {
  if (!value) return { useDefault: true };
  const overrides = value.overrides ?? [];
  if (value.useDefault && overrides.length > 0) {
    throw new CalendarApiError(
      400,
      'cannotUseDefaultRemindersAndSpecifyOverride',
      'Cannot specify both default reminders and overrides at the same time.',
      { domain: 'calendar' },
    );
  }
  if (overrides.length > MAX_REMINDERS) {
    throw badRequest(`The maximum number of override reminders is ${MAX_REMINDERS}.`);
  }
  for (const r of overrides) {
    if (r.minutes < 0 || r.minutes > MAX_REMINDER_MINUTES) {
      throw badRequest(
        `Invalid reminder minutes value ${r.minutes}; it must be between 0 and ${MAX_REMINDER_MINUTES}.`,
      );
    }
  }
  const unique = overrides.filter(
    (r, i) => overrides.findIndex((o) => o.method === r.method && o.minutes === r.minutes) === i,
  );
  const useDefault = value.useDefault ?? false;
  return useDefault ? { useDefault } : { useDefault, overrides: unique.map((r): Reminder => ({ ...r })) };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function toAttendees(value: EventInput['attendees'], organizer: Person, selfEmail: string): Attendee[] | undefined {
  if (!value || value.length === 0) return undefined;
  const byEmail = new Map<string, Attendee>();
  for (const a of value) {
    if (!a.email) throw missing('Missing attendee email.');
    if (!EMAIL.test(a.email)) throw badRequest('Invalid attendee email.');
    const email = a.email.toLowerCase();
    const attendee: Attendee = { email, responseStatus: a.responseStatus ?? 'needsAction' };
    if (a.displayName) attendee.displayName = a.displayName;
    if (a.optional) attendee.optional = true;
    if (a.resource) attendee.resource = true;
    if (a.comment) attendee.comment = a.comment;
    if (a.additionalGuests) attendee.additionalGuests = a.additionalGuests;
    byEmail.set(email, attendee);
  }
  // Quirk: Google lists the organizer among the guests as soon as there are guests.
  const organizerEmail = organizer.email.toLowerCase();
  const organizerEntry = byEmail.get(organizerEmail) ?? { email: organizerEmail, responseStatus: 'accepted' };
  byEmail.delete(organizerEmail);
  const all = [{ ...organizerEntry, organizer: true }, ...byEmail.values()];
  return all.map((a) => (a.email === selfEmail.toLowerCase() || a.organizer ? { ...a, self: true } : a));
}

const MEET_ICON = 'https://fonts.gstatic.com/s/i/productlogosvg/meet_2020q4_48dp.svg';

function meetConference(requestId: string): ConferenceData {
  const code = newMeetCode();
  return {
    createRequest: {
      requestId,
      conferenceSolutionKey: { type: 'hangoutsMeet' },
      status: { statusCode: 'success' },
    },
    entryPoints: [
      { entryPointType: 'video', uri: `https://meet.google.com/${code}`, label: `meet.google.com/${code}` },
    ],
    conferenceSolution: { key: { type: 'hangoutsMeet' }, name: 'Google Meet', iconUri: MEET_ICON },
    conferenceId: code,
  };
}

/** conferenceDataVersion=1 lets a body create or drop a conference; version 0 leaves it untouched. */
function toConference(input: EventInput, ctx: EventWriteContext): ConferenceData | undefined {
  const existing = ctx.existing?.conferenceData;
  if (ctx.conferenceDataVersion < 1) return existing;
  const value = input.conferenceData;
  if (!value) return undefined;
  const request = value.createRequest;
  if (request) {
    const type = request.conferenceSolutionKey?.type;
    if (type !== 'hangoutsMeet') throw badRequest('Invalid conference type value.');
    if (!request.requestId) throw missing('Missing conference create request id.');
    if (existing?.createRequest?.requestId === request.requestId) return existing;
    return meetConference(request.requestId);
  }
  if (!value.entryPoints || value.entryPoints.length === 0) return existing;
  const conference: ConferenceData = { entryPoints: value.entryPoints.map((e) => ({ ...e })) };
  if (value.conferenceSolution) {
    conference.conferenceSolution = {
      key: value.conferenceSolution.key,
      name: value.conferenceSolution.name ?? '',
      iconUri: value.conferenceSolution.iconUri ?? '',
    };
  }
  if (value.conferenceId) conference.conferenceId = value.conferenceId;
  if (value.notes) conference.notes = value.notes;
  return conference;
}

const sameTime = (a: EventTime | undefined, b: EventTime): boolean =>
  a !== undefined && JSON.stringify(a) === JSON.stringify(b);

/**
 * Builds the stored event from a full body (insert/update; patch merges first). Every validation
 * Google performs on the way in happens here, with Google's reason codes.
 */
export function writeEvent(input: EventInput, ctx: EventWriteContext): EventRecord {
  const { calendar, existing } = ctx;
  const isInstance = Boolean(ctx.instanceOf ?? existing?.recurringEventId);
  const recurrence = isInstance ? undefined : (input.recurrence ?? undefined);
  const recurring = recurrence !== undefined && recurrence.length > 0;
  if (!input.end) throw missing('Missing end time.');
  const start = toEventTime(input.start, 'start', calendar.timeZone, recurring);
  const end = toEventTime(input.end, 'end', calendar.timeZone, recurring);
  checkRange(start, end);
  if (recurring) validateRecurrence(recurrence);
  if (input.colorId && !eventColors[input.colorId]) throw badRequest('Invalid color id value.');

  let id = existing?.id ?? ctx.instanceOf?.id;
  if (!id) {
    if (input.id) {
      if (!isValidEventId(input.id)) throw badRequest('Invalid resource id value.');
      if (calendar.events.has(input.id)) {
        throw new CalendarApiError(409, 'duplicate', 'The requested identifier already exists.');
      }
      id = input.id;
    } else {
      id = newEventId();
    }
  }

  const organizer: Person =
    existing?.organizer ??
    (calendar.primary
      ? { email: calendar.id, self: true }
      : { email: calendar.id, displayName: calendar.summary, self: true });
  const conference = toConference(input, ctx);
  const timingChanged = existing !== undefined && (!sameTime(existing.start, start) || !sameTime(existing.end, end));

  const record: EventRecord = {
    id,
    status: input.status ?? 'confirmed',
    created: existing?.created ?? ctx.now,
    updated: ctx.now,
    revision: ctx.revision,
    sequence: existing ? existing.sequence + (timingChanged ? 1 : 0) : (input.sequence ?? 0),
    iCalUID: existing?.iCalUID ?? input.iCalUID ?? `${id}@google.com`,
    creator: existing?.creator ?? { email: ctx.user.email, self: true },
    organizer,
    start,
    end,
    reminders: toReminders(input.reminders),
    eventType: input.eventType ?? existing?.eventType ?? 'default',
  };
  const recurringEventId = ctx.instanceOf?.recurringEventId ?? existing?.recurringEventId;
  const originalStart = ctx.instanceOf?.originalStart ?? existing?.originalStart;
  if (recurringEventId && originalStart) {
    record.recurringEventId = recurringEventId;
    record.originalStart = originalStart;
  }
  if (recurring) record.recurrence = [...recurrence];
  if (input.endTimeUnspecified) record.endTimeUnspecified = true;
  if (input.summary) record.summary = input.summary;
  if (input.description) record.description = input.description;
  if (input.location) record.location = input.location;
  if (input.colorId) record.colorId = input.colorId;
  if (input.visibility) record.visibility = input.visibility;
  if (input.transparency) record.transparency = input.transparency;
  const attendees = toAttendees(input.attendees, organizer, ctx.user.email);
  if (attendees) record.attendees = attendees;
  if (conference) {
    record.conferenceData = conference;
    const video = conference.entryPoints?.find((e) => e.entryPointType === 'video');
    if (conference.conferenceSolution?.key.type === 'hangoutsMeet' && video) record.hangoutLink = video.uri;
  }
  const extended = input.extendedProperties;
  if (extended?.private || extended?.shared) {
    record.extendedProperties = {};
    if (extended.private) record.extendedProperties.private = { ...extended.private };
    if (extended.shared) record.extendedProperties.shared = { ...extended.shared };
  }
  if (input.guestsCanInviteOthers === false) record.guestsCanInviteOthers = false;
  if (input.guestsCanModify) record.guestsCanModify = true;
  if (input.guestsCanSeeOtherGuests === false) record.guestsCanSeeOtherGuests = false;
  if (input.anyoneCanAddSelf) record.anyoneCanAddSelf = true;
  if (input.source) {
    record.source = input.source.title
      ? { url: input.source.url, title: input.source.title }
      : { url: input.source.url };
  }
  return record;
}

/** Patch semantics: objects merge field by field, arrays and scalars replace, null clears. */
export function mergePatch(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    // Quirk kept friendly: start/end replace as a whole, so switching an all-day event to timed works.
    else if (key === 'start' || key === 'end') out[key] = value;
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
