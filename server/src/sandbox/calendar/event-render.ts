import { etagOf, htmlLinkOf } from './ids.js';
import type { CalendarRecord, EventRecord, EventTime } from './state.js';
import { formatDate, formatDateTime, formatTimestamp } from './time.js';

/** Event records as Google's JSON: `dateTime`s in the response zone, defaults left out the way Google does. */
export interface RenderOptions {
  calendar: CalendarRecord;
  /** The `timeZone` query parameter, else the calendar's zone. */
  timeZone: string;
  maxAttendees?: number;
}

export function renderTime(time: EventTime, timeZone: string): Record<string, string> {
  if (time.kind === 'date') return { date: formatDate(time.date) };
  const out: Record<string, string> = { dateTime: formatDateTime(time.instant, timeZone) };
  if (time.timeZone) out.timeZone = time.timeZone;
  return out;
}

export function renderEvent(event: EventRecord, options: RenderOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    kind: 'calendar#event',
    etag: etagOf(event.updated, event.revision),
    id: event.id,
    status: event.status,
    htmlLink: htmlLinkOf(event.id, options.calendar.id),
    created: formatTimestamp(event.created),
    updated: formatTimestamp(event.updated),
  };
  if (event.summary !== undefined) out.summary = event.summary;
  if (event.description !== undefined) out.description = event.description;
  if (event.location !== undefined) out.location = event.location;
  if (event.colorId !== undefined) out.colorId = event.colorId;
  out.creator = { ...event.creator };
  out.organizer = { ...event.organizer };
  out.start = renderTime(event.start, options.timeZone);
  out.end = renderTime(event.end, options.timeZone);
  if (event.endTimeUnspecified) out.endTimeUnspecified = true;
  if (event.recurrence) out.recurrence = [...event.recurrence];
  if (event.recurringEventId && event.originalStart) {
    out.recurringEventId = event.recurringEventId;
    out.originalStartTime = renderTime(event.originalStart, options.timeZone);
  }
  if (event.transparency === 'transparent') out.transparency = 'transparent';
  if (event.visibility && event.visibility !== 'default') out.visibility = event.visibility;
  out.iCalUID = event.iCalUID;
  out.sequence = event.sequence;
  if (event.attendees) {
    const limit = options.maxAttendees;
    const attendees = event.attendees.map((a) => ({ ...a }));
    if (limit !== undefined && attendees.length > limit) {
      // Google keeps the requesting user's own entry when it trims the guest list.
      const self = attendees.filter((a) => a.self);
      out.attendees = [...self, ...attendees.filter((a) => !a.self)].slice(0, Math.max(limit, self.length));
      out.attendeesOmitted = true;
    } else {
      out.attendees = attendees;
    }
  }
  if (event.extendedProperties) out.extendedProperties = structuredClone(event.extendedProperties);
  if (event.hangoutLink) out.hangoutLink = event.hangoutLink;
  if (event.conferenceData) out.conferenceData = structuredClone(event.conferenceData);
  if (event.guestsCanInviteOthers === false) out.guestsCanInviteOthers = false;
  if (event.guestsCanModify) out.guestsCanModify = true;
  if (event.guestsCanSeeOtherGuests === false) out.guestsCanSeeOtherGuests = false;
  if (event.anyoneCanAddSelf) out.anyoneCanAddSelf = true;
  if (event.source) out.source = { ...event.source };
  out.reminders = event.reminders.useDefault
    ? { useDefault: true }
    : { useDefault: false, ...(event.reminders.overrides?.length ? { overrides: event.reminders.overrides } : {}) };
  out.eventType = event.eventType;
  return out;
}
