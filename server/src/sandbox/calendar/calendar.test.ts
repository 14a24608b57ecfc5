import { auth, calendar, type calendar_v3 } from '@googleapis/calendar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/support/clock.js';
import { type RunningSandbox, startSandbox } from '../../../test/support/sandbox.js';

const FULL = 'https://www.googleapis.com/auth/calendar';
const READONLY = 'https://www.googleapis.com/auth/calendar.readonly';
const JOHN = 'john.doe@example.com';
const JANE = 'jane.doe@example.com';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let sandbox: RunningSandbox;
let clock: ReturnType<typeof manualClock>;
let john: calendar_v3.Calendar;
let jane: calendar_v3.Calendar;
let johnReadonly: calendar_v3.Calendar;
let johnToken: string;

function clientFor(email: string, scopes: string[]): { api: calendar_v3.Calendar; token: string } {
  const token = sandbox.state.oauth.issueTokenDirectly({ email, scopes }).access_token;
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: token });
  return { api: calendar({ version: 'v3', rootUrl: `${sandbox.url}/`, auth: oauth }), token };
}

/** The status and Google error body of a call expected to fail. */
async function failure(call: Promise<unknown>): Promise<{ status: number; reason: string; message: string }> {
  try {
    await call;
  } catch (error) {
    const response = (error as { response?: { status: number; data: unknown } }).response;
    const body = response?.data as { error: { errors: { reason: string }[]; message: string } };
    return { status: response?.status ?? 0, reason: body.error.errors[0]?.reason ?? '', message: body.error.message };
  }
  throw new Error('the call succeeded');
}

const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  // Tuesday 24 November 2026, 09:00 UTC = 04:00 in New York.
  clock = manualClock(Date.UTC(2026, 10, 24, 9, 0, 0));
  sandbox = await startSandbox({ clock });
  const johnClient = clientFor(JOHN, [FULL]);
  john = johnClient.api;
  johnToken = johnClient.token;
  jane = clientFor(JANE, [FULL]).api;
  johnReadonly = clientFor(JOHN, [READONLY]).api;
});

afterAll(async () => {
  await sandbox.close();
});

async function findSeeded(summary: string, calendarId = 'primary'): Promise<calendar_v3.Schema$Event> {
  const { data } = await john.events.list({ calendarId, q: summary });
  const event = data.items?.find((e) => e.summary === summary);
  if (!event) throw new Error(`no seeded event ${summary}`);
  return event;
}

describe('events.list', () => {
  it('lists a week of the seeded primary calendar, series expanded and ordered by start', async () => {
    const now = clock.now();
    const { data } = await john.events.list({
      calendarId: 'primary',
      timeMin: iso(now),
      timeMax: iso(now + 7 * DAY),
      singleEvents: true,
      orderBy: 'startTime',
    });
    expect(data).toMatchObject({
      kind: 'calendar#events',
      summary: JOHN,
      timeZone: 'America/New_York',
      accessRole: 'owner',
      defaultReminders: [{ method: 'popup', minutes: 10 }],
    });
    expect(data.nextSyncToken).toBeTruthy();
    const items = data.items ?? [];
    const summaries = items.map((e) => e.summary);
    expect(summaries).toContain('Lunch with Priya');
    expect(summaries).toContain('Quarterly planning offsite');
    expect(summaries).not.toContain('Dentist appointment');
    const standups = items.filter((e) => e.summary === 'Team standup');
    // Tue 24 Nov 04:00 NY → Tue 1 Dec 04:00: Tue, Wed, Thu, Fri, Mon at 09:30.
    expect(standups).toHaveLength(5);
    expect(standups[0]).toMatchObject({
      start: { dateTime: '2026-11-24T09:30:00-05:00', timeZone: 'America/New_York' },
      originalStartTime: { dateTime: '2026-11-24T09:30:00-05:00' },
    });
    expect(standups[0]?.id).toBe(`${standups[0]?.recurringEventId}_20261124T143000Z`);
    const starts = items.map((e) => Date.parse(e.start?.dateTime ?? `${e.start?.date}T00:00:00-05:00`));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    const kickoff = items.find((e) => e.summary === 'Project kickoff with Acme');
    expect(kickoff?.hangoutLink).toMatch(/^https:\/\/meet\.google\.com\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
    expect(kickoff?.attendees?.[0]).toEqual({ email: JOHN, organizer: true, self: true, responseStatus: 'accepted' });
    expect(items.find((e) => e.summary === 'Quarterly planning offsite')?.start).toEqual({ date: '2026-11-27' });
  });

  it('renders times in the zone asked for', async () => {
    const { data } = await john.events.list({ calendarId: 'primary', q: 'Priya', timeZone: 'UTC' });
    expect(data.items?.[0]?.start?.dateTime).toBe('2026-11-25T17:30:00Z');
  });

  it('searches summary, description, location and attendees with q', async () => {
    const byGuest = await john.events.list({ calendarId: 'primary', q: 'dana.whitfield' });
    expect(byGuest.data.items?.map((e) => e.summary)).toEqual(['Project kickoff with Acme']);
    const byPlace = await john.events.list({ calendarId: 'primary', q: 'blue bottle' });
    expect(byPlace.data.items?.map((e) => e.summary)).toEqual(['Lunch with Priya']);
  });

  it('pages with maxResults and pageToken, then hands out a sync token', async () => {
    const first = await john.events.list({ calendarId: 'primary', maxResults: 2 });
    expect(first.data.items).toHaveLength(2);
    expect(first.data.nextPageToken).toBeTruthy();
    expect(first.data.nextSyncToken).toBeUndefined();
    const second = await john.events.list({
      calendarId: 'primary',
      maxResults: 2,
      pageToken: first.data.nextPageToken ?? '',
    });
    expect(second.data.items?.[0]?.id).not.toBe(first.data.items?.[0]?.id);
  });

  it('returns only what changed since a sync token, deletions included', async () => {
    const full = await jane.events.list({ calendarId: 'primary' });
    const token = full.data.nextSyncToken ?? '';
    const lunch = full.data.items?.find((e) => e.summary === 'Lunch with Priya');
    const created = await jane.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Sync me',
        start: { dateTime: iso(clock.now() + DAY) },
        end: { dateTime: iso(clock.now() + DAY + HOUR) },
      },
    });
    await jane.events.delete({ calendarId: 'primary', eventId: lunch?.id ?? '' });
    const delta = await jane.events.list({ calendarId: 'primary', syncToken: token });
    expect(delta.data.items?.map((e) => [e.id, e.status])).toEqual(
      expect.arrayContaining([
        [created.data.id, 'confirmed'],
        [lunch?.id, 'cancelled'],
      ]),
    );
    expect(delta.data.items).toHaveLength(2);
    expect(await failure(jane.events.list({ calendarId: 'primary', syncToken: 'bogus' }))).toMatchObject({
      status: 410,
      reason: 'fullSyncRequired',
    });
  });

  it('refuses orderBy=startTime without singleEvents, and an empty time range', async () => {
    expect(await failure(john.events.list({ calendarId: 'primary', orderBy: 'startTime' }))).toEqual({
      status: 400,
      reason: 'badRequest',
      message: 'The requested ordering is not available for the particular query.',
    });
    const now = clock.now();
    expect(
      await failure(john.events.list({ calendarId: 'primary', timeMin: iso(now), timeMax: iso(now - HOUR) })),
    ).toMatchObject({
      status: 400,
      reason: 'timeRangeEmpty',
    });
  });
});

describe('events writes', () => {
  it('creates an event with a Meet link and reminder overrides, and reads it back', async () => {
    const { data: created } = await john.events.insert({
      calendarId: 'primary',
      conferenceDataVersion: 1,
      sendUpdates: 'all',
      requestBody: {
        summary: 'Design review',
        location: 'Room 4B',
        start: { dateTime: '2026-11-26T14:00:00-05:00', timeZone: 'America/New_York' },
        end: { dateTime: '2026-11-26T15:00:00-05:00', timeZone: 'America/New_York' },
        attendees: [{ email: 'Sam.Rivera@example.com' }],
        reminders: {
          useDefault: false,
          overrides: [
            { method: 'popup', minutes: 15 },
            { method: 'email', minutes: 1440 },
          ],
        },
        conferenceData: { createRequest: { requestId: 'req-1', conferenceSolutionKey: { type: 'hangoutsMeet' } } },
      },
    });
    expect(created).toMatchObject({
      kind: 'calendar#event',
      status: 'confirmed',
      summary: 'Design review',
      creator: { email: JOHN, self: true },
      organizer: { email: JOHN, self: true },
      start: { dateTime: '2026-11-26T14:00:00-05:00', timeZone: 'America/New_York' },
      sequence: 0,
      eventType: 'default',
      reminders: {
        useDefault: false,
        overrides: [
          { method: 'popup', minutes: 15 },
          { method: 'email', minutes: 1440 },
        ],
      },
      attendees: [
        { email: JOHN, organizer: true, self: true, responseStatus: 'accepted' },
        { email: 'sam.rivera@example.com', responseStatus: 'needsAction' },
      ],
      conferenceData: {
        createRequest: { requestId: 'req-1', status: { statusCode: 'success' } },
        conferenceSolution: { key: { type: 'hangoutsMeet' }, name: 'Google Meet' },
      },
    });
    expect(created.id).toMatch(/^[0-9a-v]{26}$/);
    expect(created.iCalUID).toBe(`${created.id}@google.com`);
    expect(created.etag).toMatch(/^"\d+"$/);
    expect(created.htmlLink).toMatch(/^https:\/\/www\.google\.com\/calendar\/event\?eid=[\w-]+$/);
    expect(created.hangoutLink).toBe(created.conferenceData?.entryPoints?.[0]?.uri);
    const { data: fetched } = await john.events.get({ calendarId: 'primary', eventId: created.id ?? '' });
    expect(fetched).toEqual(created);
  });

  it('ignores conferenceData unless conferenceDataVersion is 1', async () => {
    const { data } = await john.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'No meet',
        start: { dateTime: '2026-11-26T10:00:00Z' },
        end: { dateTime: '2026-11-26T10:30:00Z' },
        conferenceData: { createRequest: { requestId: 'req-2', conferenceSolutionKey: { type: 'hangoutsMeet' } } },
      },
    });
    expect(data.hangoutLink).toBeUndefined();
    expect(data.conferenceData).toBeUndefined();
    expect(data.reminders).toEqual({ useDefault: true });
  });

  it('creates all-day events from dates', async () => {
    const { data } = await john.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'Vacation', start: { date: '2026-12-21' }, end: { date: '2026-12-24' } },
    });
    expect(data.start).toEqual({ date: '2026-12-21' });
    expect(data.end).toEqual({ date: '2026-12-24' });
  });

  it('patches only the fields sent; update replaces the whole event', async () => {
    const { data: created } = await john.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Coffee',
        location: 'Cafe',
        description: 'catch up',
        start: { dateTime: '2026-11-27T10:00:00-05:00' },
        end: { dateTime: '2026-11-27T10:30:00-05:00' },
      },
    });
    const id = created.id ?? '';
    const { data: patched } = await john.events.patch({
      calendarId: 'primary',
      eventId: id,
      requestBody: { summary: 'Coffee with Ana', end: { dateTime: '2026-11-27T11:00:00-05:00' } },
    });
    expect(patched).toMatchObject({
      summary: 'Coffee with Ana',
      location: 'Cafe',
      description: 'catch up',
      sequence: 1,
    });
    expect(patched.end?.dateTime).toBe('2026-11-27T11:00:00-05:00');
    expect(patched.created).toBe(created.created);
    const { data: updated } = await john.events.update({
      calendarId: 'primary',
      eventId: id,
      requestBody: { summary: 'Tea', start: patched.start, end: patched.end },
    });
    expect(updated.summary).toBe('Tea');
    expect(updated.location).toBeUndefined();
    expect(updated.description).toBeUndefined();
  });

  it('refuses a stale If-Match etag with 412', async () => {
    const lunch = await findSeeded('Dentist appointment');
    await john.events.patch({ calendarId: 'primary', eventId: lunch.id ?? '', requestBody: { colorId: '5' } });
    const stale = john.events.patch(
      { calendarId: 'primary', eventId: lunch.id ?? '', requestBody: { colorId: '6' } },
      { headers: { 'If-Match': lunch.etag ?? '' } },
    );
    expect(await failure(stale)).toMatchObject({ status: 412, reason: 'conditionNotMet' });
  });

  it('deletes with 204; the event then reads as cancelled and a second delete is 410 deleted', async () => {
    const { data: created } = await john.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Doomed',
        start: { dateTime: '2026-11-28T10:00:00Z' },
        end: { dateTime: '2026-11-28T11:00:00Z' },
      },
    });
    const id = created.id ?? '';
    const deleted = await john.events.delete({ calendarId: 'primary', eventId: id });
    expect(deleted.status).toBe(204);
    const { data: after } = await john.events.get({ calendarId: 'primary', eventId: id });
    expect(after.status).toBe('cancelled');
    const listed = await john.events.list({ calendarId: 'primary', q: 'Doomed' });
    expect(listed.data.items).toEqual([]);
    expect(await failure(john.events.delete({ calendarId: 'primary', eventId: id }))).toMatchObject({
      status: 410,
      reason: 'deleted',
    });
  });

  it('moves an event to the secondary calendar', async () => {
    const { data: list } = await john.calendarList.list();
    const family = list.items?.find((e) => e.summary === 'Family');
    const { data: created } = await john.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Pick up kids',
        start: { dateTime: '2026-11-27T15:00:00Z' },
        end: { dateTime: '2026-11-27T15:30:00Z' },
      },
    });
    const { data: moved } = await john.events.move({
      calendarId: 'primary',
      eventId: created.id ?? '',
      destination: family?.id ?? '',
    });
    expect(moved).toMatchObject({
      id: created.id,
      organizer: { email: family?.id, displayName: 'Family', self: true },
    });
    const inFamily = await john.events.get({ calendarId: family?.id ?? '', eventId: created.id ?? '' });
    expect(inFamily.data.summary).toBe('Pick up kids');
    const inPrimary = await john.events.get({ calendarId: 'primary', eventId: created.id ?? '' });
    expect(inPrimary.data.status).toBe('cancelled');
  });

  it('quickAdds "Lunch with Bob tomorrow at 1pm" as a one-hour event tomorrow at 13:00 New York time', async () => {
    const { data } = await john.events.quickAdd({ calendarId: 'primary', text: 'Lunch with Bob tomorrow at 1pm' });
    expect(data.summary).toBe('Lunch with Bob');
    expect(data.start?.dateTime).toBe('2026-11-25T13:00:00-05:00');
    expect(data.end?.dateTime).toBe('2026-11-25T14:00:00-05:00');
  });

  it('quickAdd reads ranges and places, and makes dateless text an all-day event', async () => {
    const { data: meeting } = await john.events.quickAdd({
      calendarId: 'primary',
      text: 'Appointment at Somewhere on Dec 3 10am-10:25am',
    });
    expect(meeting).toMatchObject({
      summary: 'Appointment',
      location: 'Somewhere',
      start: { dateTime: '2026-12-03T10:00:00-05:00' },
      end: { dateTime: '2026-12-03T10:25:00-05:00' },
    });
    const { data: allDay } = await john.events.quickAdd({ calendarId: 'primary', text: 'Mom birthday friday' });
    expect(allDay).toMatchObject({
      summary: 'Mom birthday',
      start: { date: '2026-11-27' },
      end: { date: '2026-11-28' },
    });
  });

  it('expands recurring events into instances and lets one instance change alone', async () => {
    const { data: series } = await john.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Gym',
        start: { dateTime: '2026-11-30T07:00:00', timeZone: 'America/New_York' },
        end: { dateTime: '2026-11-30T08:00:00', timeZone: 'America/New_York' },
        recurrence: ['RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,WE;COUNT=5'],
      },
    });
    const { data: instances } = await john.events.instances({ calendarId: 'primary', eventId: series.id ?? '' });
    expect(instances.items?.map((e) => e.start?.dateTime)).toEqual([
      '2026-11-30T07:00:00-05:00',
      '2026-12-02T07:00:00-05:00',
      '2026-12-07T07:00:00-05:00',
      '2026-12-09T07:00:00-05:00',
      '2026-12-14T07:00:00-05:00',
    ]);
    const second = instances.items?.[1];
    expect(second).toMatchObject({
      recurringEventId: series.id,
      originalStartTime: { dateTime: '2026-12-02T07:00:00-05:00' },
    });
    await john.events.patch({
      calendarId: 'primary',
      eventId: second?.id ?? '',
      requestBody: { summary: 'Gym (legs)' },
    });
    await john.events.delete({ calendarId: 'primary', eventId: instances.items?.[2]?.id ?? '' });
    const { data: after } = await john.events.list({
      calendarId: 'primary',
      singleEvents: true,
      orderBy: 'startTime',
      q: 'gym',
      timeMin: '2026-11-29T00:00:00Z',
    });
    expect(after.items?.map((e) => e.summary)).toEqual(['Gym', 'Gym (legs)', 'Gym', 'Gym']);
  });

  it('expands monthly and yearly rules with UNTIL', async () => {
    const { data: monthly } = await john.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Rent',
        start: { date: '2026-12-01' },
        end: { date: '2026-12-02' },
        recurrence: ['RRULE:FREQ=MONTHLY;UNTIL=20270301'],
      },
    });
    const { data } = await john.events.instances({ calendarId: 'primary', eventId: monthly.id ?? '' });
    expect(data.items?.map((e) => e.start?.date)).toEqual(['2026-12-01', '2027-01-01', '2027-02-01', '2027-03-01']);
    const { data: lastFriday } = await john.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Demo day',
        start: { dateTime: '2026-11-27T16:00:00', timeZone: 'America/New_York' },
        end: { dateTime: '2026-11-27T17:00:00', timeZone: 'America/New_York' },
        recurrence: ['RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=3'],
      },
    });
    const { data: fridays } = await john.events.instances({ calendarId: 'primary', eventId: lastFriday.id ?? '' });
    expect(fridays.items?.map((e) => e.start?.dateTime?.slice(0, 10))).toEqual([
      '2026-11-27',
      '2026-12-25',
      '2027-01-29',
    ]);
  });
});

describe('event validation', () => {
  const at = (h: number) => ({ dateTime: `2026-11-26T${String(h).padStart(2, '0')}:00:00Z` });

  it('answers an unknown event with Google 404 body', async () => {
    const response = await fetch(`${sandbox.url}/calendar/v3/calendars/primary/events/nosuchevent1`, {
      headers: { authorization: `Bearer ${johnToken}` },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        code: 404,
        message: 'Not Found',
        errors: [{ domain: 'global', reason: 'notFound', message: 'Not Found' }],
      },
    });
  });

  it('refuses an end before the start with timeRangeEmpty', async () => {
    const result = await failure(
      john.events.insert({ calendarId: 'primary', requestBody: { start: at(12), end: at(11) } }),
    );
    expect(result).toEqual({ status: 400, reason: 'timeRangeEmpty', message: 'The specified time range is empty.' });
  });

  it('refuses a missing end, and mixing date with dateTime', async () => {
    expect(await failure(john.events.insert({ calendarId: 'primary', requestBody: { start: at(12) } }))).toMatchObject({
      status: 400,
      reason: 'required',
      message: 'Missing end time.',
    });
    const mixed = john.events.insert({
      calendarId: 'primary',
      requestBody: { start: { date: '2026-11-26' }, end: at(12) },
    });
    expect(await failure(mixed)).toMatchObject({ status: 400, reason: 'invalid' });
  });

  it('refuses more than five reminders, minutes beyond four weeks, and defaults mixed with overrides', async () => {
    const overrides = (n: number, minutes = 10) =>
      Array.from({ length: n }, (_, i) => ({ method: 'popup', minutes: minutes + i }));
    const insert = (reminders: calendar_v3.Schema$Event['reminders']) =>
      failure(john.events.insert({ calendarId: 'primary', requestBody: { start: at(12), end: at(13), reminders } }));
    expect(await insert({ useDefault: false, overrides: overrides(6) })).toMatchObject({
      status: 400,
      reason: 'invalid',
    });
    expect(await insert({ useDefault: false, overrides: overrides(1, 40_321) })).toMatchObject({
      status: 400,
      reason: 'invalid',
    });
    expect(await insert({ useDefault: true, overrides: overrides(1) })).toMatchObject({
      status: 400,
      reason: 'cannotUseDefaultRemindersAndSpecifyOverride',
    });
  });

  it('requires a time zone for recurring events written without one', async () => {
    const result = await failure(
      john.events.insert({
        calendarId: 'primary',
        requestBody: { start: at(9), end: at(10), recurrence: ['RRULE:FREQ=DAILY'] },
      }),
    );
    expect(result).toMatchObject({
      status: 400,
      reason: 'required',
      message: 'Missing time zone definition for start time.',
    });
  });

  it('refuses writes to a calendar the user can only read', async () => {
    const result = await failure(
      john.events.insert({
        calendarId: 'en.usa#holiday@group.v.calendar.google.com',
        requestBody: { start: at(9), end: at(10) },
      }),
    );
    expect(result).toMatchObject({ status: 403, reason: 'requiredAccessLevel' });
  });

  it('refuses writes with a read-only token (403 from the sandbox core) but lets it read', async () => {
    const insert = johnReadonly.events.insert({ calendarId: 'primary', requestBody: { start: at(9), end: at(10) } });
    expect((await failure(insert)).status).toBe(403);
    const { data } = await johnReadonly.events.list({ calendarId: 'primary', maxResults: 1 });
    expect(data.items).toHaveLength(1);
  });
});

describe('per-user isolation', () => {
  it("keeps one user's events and calendars out of another's reach", async () => {
    const { data: secret } = await john.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'John only',
        start: { dateTime: '2026-11-26T18:00:00Z' },
        end: { dateTime: '2026-11-26T19:00:00Z' },
      },
    });
    expect(await failure(jane.events.get({ calendarId: 'primary', eventId: secret.id ?? '' }))).toMatchObject({
      status: 404,
    });
    expect(await failure(jane.events.list({ calendarId: JOHN }))).toMatchObject({ status: 404, reason: 'notFound' });
    const { data } = await jane.events.list({ calendarId: 'primary', q: 'John only' });
    expect(data.items).toEqual([]);
    const { data: janeCalendar } = await jane.calendars.get({ calendarId: 'primary' });
    expect(janeCalendar.id).toBe(JANE);
  });
});

describe('freeBusy', () => {
  it('reports merged busy blocks per calendar and notFound for unknown ones', async () => {
    const { data } = await john.freebusy.query({
      requestBody: {
        timeMin: '2026-11-25T05:00:00Z',
        timeMax: '2026-11-26T05:00:00Z',
        items: [{ id: 'primary' }, { id: 'nobody@example.com' }],
      },
    });
    expect(data.kind).toBe('calendar#freeBusy');
    expect(data.timeMin).toBe('2026-11-25T05:00:00.000Z');
    // Wednesday 25 Nov in New York: standup 9:30, lunch 12:30, kickoff 15:00 (all in UTC).
    expect(data.calendars?.primary?.busy).toEqual(
      expect.arrayContaining([
        { start: '2026-11-25T14:30:00Z', end: '2026-11-25T14:45:00Z' },
        { start: '2026-11-25T20:00:00Z', end: '2026-11-25T21:00:00Z' },
      ]),
    );
    expect(data.calendars?.['nobody@example.com']).toEqual({
      errors: [{ domain: 'global', reason: 'notFound' }],
      busy: [],
    });
  });
});

describe('calendars and calendarList', () => {
  it('resolves primary to the user email calendar', async () => {
    const { data } = await john.calendars.get({ calendarId: 'primary' });
    expect(data).toMatchObject({ kind: 'calendar#calendar', id: JOHN, summary: JOHN, timeZone: 'America/New_York' });
  });

  it('creates, lists, patches, updates and deletes a secondary calendar', async () => {
    const { data: created } = await john.calendars.insert({
      requestBody: { summary: 'Side project', timeZone: 'Europe/Paris' },
    });
    expect(created.id).toMatch(/@group\.calendar\.google\.com$/);
    const { data: entry } = await john.calendarList.get({ calendarId: created.id ?? '' });
    expect(entry).toMatchObject({
      kind: 'calendar#calendarListEntry',
      summary: 'Side project',
      accessRole: 'owner',
      timeZone: 'Europe/Paris',
    });
    const { data: patched } = await john.calendars.patch({
      calendarId: created.id ?? '',
      requestBody: { description: 'nights' },
    });
    expect(patched).toMatchObject({ summary: 'Side project', description: 'nights' });
    const { data: updated } = await john.calendars.update({
      calendarId: created.id ?? '',
      requestBody: { summary: 'Renamed' },
    });
    expect(updated.description).toBeUndefined();
    expect(await failure(john.calendars.update({ calendarId: created.id ?? '', requestBody: {} }))).toMatchObject({
      status: 400,
      reason: 'required',
    });
    await john.calendars.delete({ calendarId: created.id ?? '' });
    expect(await failure(john.calendars.get({ calendarId: created.id ?? '' }))).toMatchObject({ status: 404 });
  });

  it('filters the calendar list by minAccessRole and hides hidden entries unless asked', async () => {
    const all = await john.calendarList.list();
    expect(all.data.kind).toBe('calendar#calendarList');
    expect(all.data.items?.find((e) => e.primary)).toMatchObject({ id: JOHN, accessRole: 'owner' });
    expect(all.data.items?.map((e) => e.accessRole)).toContain('reader');
    const owned = await john.calendarList.list({ minAccessRole: 'owner' });
    expect(owned.data.items?.every((e) => e.accessRole === 'owner')).toBe(true);
    const holidays = 'en.usa#holiday@group.v.calendar.google.com';
    const { data: hidden } = await john.calendarList.patch({ calendarId: holidays, requestBody: { hidden: true } });
    expect(hidden.hidden).toBe(true);
    expect((await john.calendarList.list()).data.items?.map((e) => e.id)).not.toContain(holidays);
    expect((await john.calendarList.list({ showHidden: true })).data.items?.map((e) => e.id)).toContain(holidays);
    const { data: recolored } = await john.calendarList.update({
      calendarId: holidays,
      colorRgbFormat: true,
      requestBody: { backgroundColor: '#ff0000', foregroundColor: '#ffffff' },
    });
    expect(recolored).toMatchObject({ backgroundColor: '#ff0000', foregroundColor: '#ffffff' });
    await john.calendarList.delete({ calendarId: holidays });
    expect(await failure(john.calendarList.get({ calendarId: holidays }))).toMatchObject({ status: 404 });
    const { data: back } = await john.calendarList.insert({ requestBody: { id: holidays } });
    expect(back).toMatchObject({ id: holidays, accessRole: 'reader' });
  });

  it('clears the primary calendar', async () => {
    const { api: mei } = clientFor('mei.tanaka@example.com', [FULL]);
    await mei.calendars.clear({ calendarId: 'primary' });
    const { data } = await mei.events.list({ calendarId: 'primary' });
    expect(data.items).toEqual([]);
  });
});

describe('acl, settings and colors', () => {
  it('shares a calendar: insert, get, patch, list and delete a rule; the owner rule stays', async () => {
    const { data: rule } = await john.acl.insert({
      calendarId: 'primary',
      requestBody: { role: 'reader', scope: { type: 'user', value: 'friend@example.com' } },
    });
    expect(rule).toMatchObject({ kind: 'calendar#aclRule', id: 'user:friend@example.com', role: 'reader' });
    const { data: fetched } = await john.acl.get({ calendarId: 'primary', ruleId: rule.id ?? '' });
    expect(fetched.scope).toEqual({ type: 'user', value: 'friend@example.com' });
    const { data: patched } = await john.acl.patch({
      calendarId: 'primary',
      ruleId: rule.id ?? '',
      requestBody: { role: 'writer' },
    });
    expect(patched.role).toBe('writer');
    const { data: list } = await john.acl.list({ calendarId: 'primary' });
    expect(list.kind).toBe('calendar#acl');
    expect(list.items?.map((r) => [r.id, r.role])).toEqual([
      [`user:${JOHN}`, 'owner'],
      ['user:friend@example.com', 'writer'],
    ]);
    await john.acl.delete({ calendarId: 'primary', ruleId: rule.id ?? '' });
    expect(await failure(john.acl.get({ calendarId: 'primary', ruleId: rule.id ?? '' }))).toMatchObject({
      status: 404,
    });
    expect(await failure(john.acl.delete({ calendarId: 'primary', ruleId: `user:${JOHN}` }))).toMatchObject({
      status: 400,
      reason: 'cannotChangeOwnAcl',
    });
  });

  it('lists and gets user settings', async () => {
    const { data } = await john.settings.list();
    expect(data.kind).toBe('calendar#settings');
    expect(data.items?.find((s) => s.id === 'timezone')).toMatchObject({
      kind: 'calendar#setting',
      value: 'America/New_York',
    });
    const { data: weekStart } = await john.settings.get({ setting: 'weekStart' });
    expect(weekStart.value).toBe('0');
    expect(await failure(john.settings.get({ setting: 'nope' }))).toMatchObject({ status: 404 });
  });

  it('returns the calendar and event color palettes', async () => {
    const { data } = await john.colors.get();
    expect(data.kind).toBe('calendar#colors');
    expect(Object.keys(data.calendar ?? {})).toHaveLength(24);
    expect(data.event?.['11']).toEqual({ background: '#dc2127', foreground: '#1d1d1d' });
  });
});
