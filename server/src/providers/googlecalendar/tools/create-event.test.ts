import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FULL_CALENDAR_SCOPE,
  runTool,
  SANDBOX_NOW,
  startToolHarness,
  type ToolHarness,
} from '../../../../test/support/tool-harness.js';
import { ProviderError } from '../../../errors.js';
import { googleCalendar } from '../provider.js';
import { createEvent } from './create-event.js';
import { getEventById } from './get-event-by-id.js';
import { listCalendars } from './list-calendars.js';
import { listEventInstances } from './list-event-instances.js';

interface EventTime {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

interface GoogleEvent {
  id: string;
  htmlLink: string;
  summary?: string;
  description?: string;
  location?: string;
  start: EventTime;
  end: EventTime;
  attendees?: { email: string; organizer?: boolean }[];
  recurrence?: string[];
  hangoutLink?: string;
  conferenceData?: { conferenceId?: string; entryPoints?: { entryPointType: string; uri: string }[] };
  visibility?: string;
  transparency?: string;
  eventType?: string;
  guestsCanInviteOthers?: boolean;
  guestsCanModify?: boolean;
  guestsCanSeeOtherGuests?: boolean;
  reminders?: { useDefault: boolean; overrides?: { method: string; minutes: number }[] };
  colorId?: string;
}

let env: ToolHarness;

beforeAll(async () => {
  env = await startToolHarness({ provider: googleCalendar, scopes: [FULL_CALENDAR_SCOPE], now: SANDBOX_NOW });
});

afterAll(async () => {
  await env.close();
});

const create = (input: Record<string, unknown>) =>
  runTool<GoogleEvent>(createEvent, { summary: 'Planning', ...input }, env.ctx);

const minutesBetween = (event: GoogleEvent) =>
  (Date.parse(event.end.dateTime ?? '') - Date.parse(event.start.dateTime ?? '')) / 60_000;

const invalid = (field: string) =>
  expect.objectContaining({ code: 'tool_input_invalid', message: expect.stringContaining(field) });

describe('googlecalendar_create_event', () => {
  it('creates a 30-minute event on the primary calendar and returns its id and htmlLink', async () => {
    const event = await create({ start_datetime: '2026-03-10T14:00:00Z' });
    expect(event.id).toMatch(/\S/);
    expect(event.htmlLink).toMatch(/^https:\/\/www\.google\.com\/calendar\/event\?eid=/);
    expect(event.summary).toBe('Planning');
    expect(Date.parse(event.start.dateTime ?? '')).toBe(Date.parse('2026-03-10T14:00:00Z'));
    expect(minutesBetween(event)).toBe(30);
    const posted = env.requests.at(-1);
    expect(posted?.method).toBe('POST');
    expect(posted?.path).toBe('/calendar/v3/calendars/primary/events');
  });

  it('keeps an explicit offset as the exact instant, whatever the timezone', async () => {
    const event = await create({ start_datetime: '2026-03-10T09:00:00+05:30', timezone: 'Europe/Paris' });
    expect(Date.parse(event.start.dateTime ?? '')).toBe(Date.parse('2026-03-10T03:30:00Z'));
    expect(event.start.timeZone).toBe('Europe/Paris');
    expect(event.end.timeZone).toBe('Europe/Paris');
  });

  it('reads a start without offset in the given timezone', async () => {
    const event = await create({ start_datetime: '2026-03-10T09:00:00', timezone: 'Europe/Paris' });
    expect(Date.parse(event.start.dateTime ?? '')).toBe(Date.parse('2026-03-10T08:00:00Z'));
    const sent = env.requests.at(-1)?.body as { start: EventTime; end: EventTime };
    expect(sent.start).toEqual({ dateTime: '2026-03-10T09:00:00+01:00', timeZone: 'Europe/Paris' });
    expect(sent.end).toEqual({ dateTime: '2026-03-10T09:30:00+01:00', timeZone: 'Europe/Paris' });
  });

  it("reads a start without offset nor timezone in the calendar's own zone", async () => {
    // The seeded primary calendar is in America/New_York (EDT, -04:00, after 2026-03-08).
    const event = await create({ start_datetime: '2026-03-10T09:00:00' });
    expect(Date.parse(event.start.dateTime ?? '')).toBe(Date.parse('2026-03-10T13:00:00Z'));
    expect(event.start.timeZone).toBe('America/New_York');
  });

  it.each([
    [{ event_duration_hour: 2 }, 120],
    [{ event_duration_minutes: 15 }, 15],
    [{ event_duration_hour: 1, event_duration_minutes: 45 }, 105],
    [{ event_duration_hour: 0, event_duration_minutes: 59 }, 59],
    [{ event_duration_hour: 26 }, 26 * 60],
  ])('lasts as long as %j says', async (duration, minutes) => {
    const event = await create({ start_datetime: '2026-03-11T10:00:00Z', ...duration });
    expect(minutesBetween(event)).toBe(minutes);
  });

  it.each([
    [{ event_duration_hour: 0, event_duration_minutes: 0 }, 'event_duration'],
    [{ event_duration_minutes: 60 }, 'event_duration_minutes'],
    [{ event_duration_minutes: -5 }, 'event_duration_minutes'],
    [{ event_duration_hour: -1 }, 'event_duration_hour'],
    [{ event_duration_hour: 1.5 }, 'event_duration_hour'],
    [{ event_duration_hour: 721 }, 'event_duration_hour'],
  ])('rejects the duration %j', async (duration, field) => {
    const before = env.requests.length;
    await expect(create({ start_datetime: '2026-03-11T10:00:00Z', ...duration })).rejects.toThrowError(invalid(field));
    expect(env.requests.length).toBe(before);
  });

  it('keeps real elapsed time across the spring-forward change', async () => {
    // New York skips 02:00–03:00 on 2026-03-08: one hour after 01:30 EST is 03:30 EDT.
    const event = await create({
      start_datetime: '2026-03-08T01:30:00',
      timezone: 'America/New_York',
      event_duration_hour: 1,
    });
    const sent = env.requests.at(-1)?.body as { start: EventTime; end: EventTime };
    expect(sent.start.dateTime).toBe('2026-03-08T01:30:00-05:00');
    expect(sent.end.dateTime).toBe('2026-03-08T03:30:00-04:00');
    expect(minutesBetween(event)).toBe(60);
  });

  it('keeps real elapsed time across the fall-back change', async () => {
    // Paris repeats 02:00–03:00 on 2026-10-25: two hours after 01:30 CEST is 02:30 CET.
    const event = await create({
      start_datetime: '2026-10-25T01:30:00',
      timezone: 'Europe/Paris',
      event_duration_hour: 2,
    });
    const sent = env.requests.at(-1)?.body as { start: EventTime; end: EventTime };
    expect(sent.start.dateTime).toBe('2026-10-25T01:30:00+02:00');
    expect(sent.end.dateTime).toBe('2026-10-25T02:30:00+01:00');
    expect(minutesBetween(event)).toBe(120);
  });

  it.each(['next tuesday 3pm', '2026-03-10', '2026-02-30T10:00:00Z', '10:00'])(
    'rejects the start %s naming start_datetime, before calling Google',
    async (start) => {
      const before = env.requests.length;
      await expect(create({ start_datetime: start })).rejects.toThrowError(invalid('start_datetime'));
      expect(env.requests.length).toBe(before);
    },
  );

  it.each(['Mars/Olympus', 'EST5EDT-ish', '+02:00'])('rejects the timezone %s', async (timezone) => {
    await expect(create({ start_datetime: '2026-03-10T09:00:00', timezone })).rejects.toThrowError(invalid('timezone'));
  });

  it('attaches a new Meet link with conferenceDataVersion=1 and a fresh requestId each time', async () => {
    const first = await create({ start_datetime: '2026-03-12T16:00:00Z', create_meeting_room: true });
    const firstRequest = env.requests.at(-1);
    const second = await create({ start_datetime: '2026-03-12T17:00:00Z', create_meeting_room: true });
    const secondRequest = env.requests.at(-1);
    expect(firstRequest?.query.conferenceDataVersion).toBe('1');
    const requestIdOf = (body: unknown) =>
      (body as { conferenceData: { createRequest: { requestId: string; conferenceSolutionKey: { type: string } } } })
        .conferenceData.createRequest;
    expect(requestIdOf(firstRequest?.body).conferenceSolutionKey.type).toBe('hangoutsMeet');
    expect(requestIdOf(firstRequest?.body).requestId).not.toBe(requestIdOf(secondRequest?.body).requestId);
    expect(first.hangoutLink).toMatch(/^https:\/\/meet\.google\.com\//);
    expect(first.conferenceData?.entryPoints?.some((e) => e.entryPointType === 'video')).toBe(true);
    expect(second.hangoutLink).not.toBe(first.hangoutLink);
  });

  it('adds no conference without create_meeting_room', async () => {
    const event = await create({ start_datetime: '2026-03-12T18:00:00Z' });
    expect(event.hangoutLink).toBeUndefined();
    expect(env.requests.at(-1)?.query.conferenceDataVersion).toBeUndefined();
  });

  it('invites each attendee once and emails them when send_updates is true', async () => {
    const event = await create({
      start_datetime: '2026-03-13T15:00:00Z',
      attendees_emails: ['ana@example.com', 'bo@example.org', 'ANA@example.com'],
      send_updates: true,
    });
    // Google lists the organizer among the attendees as soon as there are guests.
    const guests = event.attendees?.filter((a) => !a.organizer).map((a) => a.email.toLowerCase());
    expect(guests).toEqual(['ana@example.com', 'bo@example.org']);
    expect(env.requests.at(-1)?.body).toMatchObject({
      attendees: [{ email: 'ana@example.com' }, { email: 'bo@example.org' }],
    });
    expect(env.requests.at(-1)?.query.sendUpdates).toBe('all');
    await create({ start_datetime: '2026-03-13T16:00:00Z', send_updates: false });
    expect(env.requests.at(-1)?.query.sendUpdates).toBe('none');
  });

  it('rejects an attendee that is not an email address', async () => {
    await expect(create({ start_datetime: '2026-03-13T15:00:00Z', attendees_emails: ['ana'] })).rejects.toThrowError(
      invalid('attendees_emails'),
    );
  });

  it('creates a recurring series in the calendar zone, also from a bare FREQ rule', async () => {
    const event = await create({
      start_datetime: '2026-03-16T09:00:00-04:00',
      recurrence: ['FREQ=WEEKLY;COUNT=3'],
    });
    expect(event.recurrence).toEqual(['RRULE:FREQ=WEEKLY;COUNT=3']);
    // Google requires a zone on recurring events; the calendar's was looked up.
    expect(event.start.timeZone).toBe('America/New_York');
    const occurrences = await runTool<{ events: GoogleEvent[] }>(
      listEventInstances,
      { calendar_id: 'primary', event_id: event.id },
      env.ctx,
    );
    expect(occurrences.events.map((e) => Date.parse(e.start.dateTime ?? ''))).toEqual([
      Date.parse('2026-03-16T13:00:00Z'),
      Date.parse('2026-03-23T13:00:00Z'),
      Date.parse('2026-03-30T13:00:00Z'),
    ]);
  });

  it('rejects a recurrence line that is not RFC 5545', async () => {
    await expect(create({ start_datetime: '2026-03-16T09:00:00Z', recurrence: ['every monday'] })).rejects.toThrowError(
      invalid('recurrence'),
    );
  });

  it('sets description, location, visibility, transparency and guest permissions', async () => {
    const event = await create({
      start_datetime: '2026-03-17T09:00:00Z',
      description: 'Agenda: roadmap',
      location: 'Room 4',
      visibility: 'private',
      transparency: 'transparent',
      guests_can_invite_others: false,
      guests_can_modify: true,
      guests_can_see_other_guests: false,
      event_type: 'default',
    });
    expect(event).toMatchObject({
      description: 'Agenda: roadmap',
      location: 'Room 4',
      visibility: 'private',
      transparency: 'transparent',
      guestsCanInviteOthers: false,
      guestsCanModify: true,
      guestsCanSeeOtherGuests: false,
      eventType: 'default',
    });
  });

  it('creates focus time as its own event type', async () => {
    const event = await create({ start_datetime: '2026-03-18T09:00:00Z', event_type: 'focusTime' });
    expect(event.eventType).toBe('focusTime');
  });

  it('creates the event on another calendar of the user', async () => {
    const { calendars } = await runTool<{ calendars: { id: string; summary: string }[] }>(listCalendars, {}, env.ctx);
    const family = calendars.find((c) => c.summary === 'Family');
    expect(family).toBeDefined();
    const event = await create({ start_datetime: '2026-03-19T18:00:00Z', calendar_id: family?.id });
    expect(env.requests.at(-1)?.path).toBe(`/calendar/v3/calendars/${encodeURIComponent(family?.id ?? '')}/events`);
    expect(event.id).toMatch(/\S/);
  });

  it('surfaces an unknown calendar as a ProviderError provider_not_found', async () => {
    const error = await create({
      start_datetime: '2026-03-10T09:00:00Z',
      calendar_id: 'nobody@group.calendar.google.com',
    })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_not_found', providerStatus: 404 });
  });

  it('surfaces a rule Google refuses as a ProviderError provider_bad_request', async () => {
    const error = await create({ start_datetime: '2026-03-10T09:00:00Z', recurrence: ['RRULE:FREQ=SOMETIMES'] })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_bad_request', providerStatus: 400 });
  });

  it('surfaces a read-only grant as a ProviderError insufficient_scope', async () => {
    const readOnly = env.contextFor({ scopes: ['https://www.googleapis.com/auth/calendar.readonly'] });
    const error = await runTool(createEvent, { summary: 'x', start_datetime: '2026-03-10T09:00:00Z' }, readOnly)
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'insufficient_scope', providerStatus: 403 });
  });

  it('runs with the narrower calendar.events scope it declares', async () => {
    const eventsOnly = env.contextFor({ scopes: ['https://www.googleapis.com/auth/calendar.events'] });
    const event = await runTool<GoogleEvent>(
      createEvent,
      { summary: 'Scoped', start_datetime: '2026-03-10T10:00:00' },
      eventsOnly,
    );
    expect(event.start.timeZone).toBe('America/New_York');
    expect(createEvent.scopes).toContain('https://www.googleapis.com/auth/calendar.events');
  });
});

describe('googlecalendar_create_event extensions: reminders and color_id', () => {
  it('sends reminder overrides and a color that Google stores and returns', async () => {
    const event = await create({
      start_datetime: '2026-03-20T09:00:00Z',
      reminders: {
        overrides: [
          { method: 'popup', minutes: 10 },
          { method: 'email', minutes: 1440 },
        ],
      },
      color_id: '11',
    });
    const sent = env.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent.reminders).toEqual({
      useDefault: false,
      overrides: [
        { method: 'popup', minutes: 10 },
        { method: 'email', minutes: 1440 },
      ],
    });
    expect(sent.colorId).toBe('11');
    const stored = await runTool<GoogleEvent>(getEventById, { event_id: event.id }, env.ctx);
    expect(stored.reminders).toEqual({
      useDefault: false,
      overrides: [
        { method: 'popup', minutes: 10 },
        { method: 'email', minutes: 1440 },
      ],
    });
    expect(stored.colorId).toBe('11');
  });

  it.each([
    [{ use_default: true }, { useDefault: true }],
    [{ use_default: false }, { useDefault: false }],
    [{}, { useDefault: true }],
    [
      { use_default: false, overrides: [{ method: 'popup', minutes: 0 }] },
      { useDefault: false, overrides: [{ method: 'popup', minutes: 0 }] },
    ],
    [
      { overrides: [{ method: 'email', minutes: 40_320 }] },
      { useDefault: false, overrides: [{ method: 'email', minutes: 40_320 }] },
    ],
  ])("maps reminders %j to Google's %j", async (reminders, expected) => {
    const event = await create({ start_datetime: '2026-03-20T11:00:00Z', reminders });
    expect(event.reminders).toEqual(expected);
  });

  it('leaves reminders and color to the calendar when not given', async () => {
    const event = await create({ start_datetime: '2026-03-20T12:00:00Z' });
    const sent = env.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('reminders');
    expect(sent).not.toHaveProperty('colorId');
    expect(event.reminders).toEqual({ useDefault: true });
    expect(event.colorId).toBeUndefined();
  });

  const popups = (count: number) => Array.from({ length: count }, (_, i) => ({ method: 'popup', minutes: i + 1 }));

  it.each([
    [{ overrides: popups(6) }, 'reminders.overrides'],
    [{ overrides: [{ method: 'popup', minutes: 40_321 }] }, 'reminders.overrides.0.minutes'],
    [{ overrides: [{ method: 'popup', minutes: -1 }] }, 'reminders.overrides.0.minutes'],
    [{ overrides: [{ method: 'popup', minutes: 2.5 }] }, 'reminders.overrides.0.minutes'],
    [{ overrides: [{ method: 'sms', minutes: 5 }] }, 'reminders.overrides.0.method'],
    [{ overrides: [{ method: 'popup' }] }, 'reminders.overrides.0.minutes'],
    [{ use_default: true, overrides: popups(1) }, 'reminders.overrides'],
    [{ useDefault: true }, 'reminders'],
  ])('refuses reminders %j naming %s, before calling Google', async (reminders, field) => {
    const before = env.requests.length;
    await expect(create({ start_datetime: '2026-03-20T13:00:00Z', reminders })).rejects.toThrowError(invalid(field));
    expect(env.requests.length).toBe(before);
  });

  it.each(['0', '12', 'red', '5 '])('refuses color_id %j naming color_id', async (color_id) => {
    await expect(create({ start_datetime: '2026-03-20T14:00:00Z', color_id })).rejects.toThrowError(
      invalid('color_id'),
    );
  });
});
