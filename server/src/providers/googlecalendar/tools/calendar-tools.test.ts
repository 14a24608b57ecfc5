import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnLoopback } from '../../../../test/support/loopback.js';
import {
  FULL_CALENDAR_SCOPE,
  type RecordedRequest,
  runTool,
  SANDBOX_NOW,
  startToolHarness,
  type ToolHarness,
  toolContext,
} from '../../../../test/support/tool-harness.js';
import { ProviderError } from '../../../errors.js';
import type { ToolDefinition } from '../../types.js';
import { googleCalendar } from '../provider.js';
import { addCalendarToList } from './add-calendar-to-list.js';
import { clearCalendar } from './clear-calendar.js';
import { createCalendar } from './create-calendar.js';
import { createEvent } from './create-event.js';
import { deleteAclRule } from './delete-acl-rule.js';
import { deleteCalendar } from './delete-calendar.js';
import { deleteEvent } from './delete-event.js';
import { getAclRule } from './get-acl-rule.js';
import { getCalendar } from './get-calendar.js';
import { getCalendarListEntry } from './get-calendar-list-entry.js';
import { getColors } from './get-colors.js';
import { getEventById } from './get-event-by-id.js';
import { getSetting } from './get-setting.js';
import { importEvent } from './import-event.js';
import { insertAclRule } from './insert-acl-rule.js';
import { listAclRules } from './list-acl-rules.js';
import { listCalendars } from './list-calendars.js';
import { listEventInstances } from './list-event-instances.js';
import { listEvents } from './list-events.js';
import { listSettings } from './list-settings.js';
import { moveEvent } from './move-event.js';
import { queryFreebusy } from './query-freebusy.js';
import { quickAddEvent } from './quick-add-event.js';
import { removeCalendarFromList } from './remove-calendar-from-list.js';
import { searchEvents } from './search-events.js';
import { transferCalendarOwnership } from './transfer-calendar-ownership.js';
import { updateAclRule } from './update-acl-rule.js';
import { updateCalendar } from './update-calendar.js';
import { updateCalendarListEntry } from './update-calendar-list-entry.js';
import { updateEvent } from './update-event.js';

interface EventTime {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

interface GoogleEvent {
  id: string;
  summary?: string;
  status?: string;
  iCalUID?: string;
  start: EventTime;
  end: EventTime;
  location?: string;
  recurrence?: string[];
  recurringEventId?: string;
  hangoutLink?: string;
  attendees?: { email: string; responseStatus?: string; organizer?: boolean }[];
  instances?: GoogleEvent[];
}

interface EventPage {
  events: GoogleEvent[];
  next_page_token: string | null;
  time_zone: string | null;
}

interface CalendarEntry {
  id: string;
  summary: string;
  summaryOverride?: string;
  accessRole: string;
  colorId?: string;
  hidden?: boolean;
  primary?: boolean;
}

const USER = 'john.doe@example.com';
const HOLIDAYS = 'en.usa#holiday@group.v.calendar.google.com';

let env: ToolHarness;

beforeAll(async () => {
  env = await startToolHarness({ provider: googleCalendar, scopes: [FULL_CALENDAR_SCOPE], now: SANDBOX_NOW });
});

afterAll(async () => {
  await env.close();
});

const call = <T>(tool: ToolDefinition, input: Record<string, unknown>) => runTool<T>(tool, input, env.ctx);

const failure = (promise: Promise<unknown>) => promise.then(() => undefined).catch((error: unknown) => error);

const minutes = (event: GoogleEvent) =>
  (Date.parse(event.end.dateTime ?? '') - Date.parse(event.start.dateTime ?? '')) / 60_000;

async function newEvent(input: Record<string, unknown>): Promise<GoogleEvent> {
  return call<GoogleEvent>(createEvent, { summary: 'Scratch', start_datetime: '2026-03-20T15:00:00Z', ...input });
}

async function familyCalendarId(): Promise<string> {
  const { calendars } = await call<{ calendars: CalendarEntry[] }>(listCalendars, {});
  const family = calendars.find((c) => c.summary === 'Family');
  if (!family) throw new Error('the sandbox seed has no Family calendar');
  return family.id;
}

describe('event tools', () => {
  it('list_events returns upcoming occurrences from now, in start order, with paging and the calendar zone', async () => {
    const page = await call<EventPage>(listEvents, { max_results: 3 });
    expect(page.time_zone).toBe('America/New_York');
    expect(page.events).toHaveLength(3);
    const starts = page.events.map((e) => Date.parse(e.start.dateTime ?? `${e.start.date}T00:00:00Z`));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    // Yesterday's dentist appointment is in the past; the standup occurrences are expanded.
    expect(page.events.some((e) => e.summary === 'Dentist appointment')).toBe(false);
    expect(page.events.every((e) => e.recurrence === undefined)).toBe(true);
    expect(page.next_page_token).toEqual(expect.any(String));
    const next = await call<EventPage>(listEvents, { max_results: 3, page_token: page.next_page_token });
    expect(next.events[0]?.id).not.toBe(page.events[0]?.id);
    expect(env.requests.at(-2)?.query).toMatchObject({ singleEvents: 'true', orderBy: 'startTime', maxResults: '3' });
  });

  it('list_events reaches past events with time_min and filters by query', async () => {
    const page = await call<EventPage>(listEvents, {
      time_min: '2026-02-28T00:00:00-05:00',
      time_max: '2026-03-04T00:00:00-05:00',
      query: 'dentist',
    });
    expect(page.events.map((e) => e.summary)).toEqual(['Dentist appointment']);
  });

  it('list_events refuses order_by startTime over unexpanded series before calling Google', async () => {
    await expect(call(listEvents, { single_events: false, order_by: 'startTime' })).rejects.toMatchObject({
      code: 'tool_input_invalid',
    });
  });

  it('search_events finds events by text over all time', async () => {
    const page = await call<EventPage>(searchEvents, { calendar_id: 'primary', query: 'Acme kickoff' });
    expect(page.events.map((e) => e.summary)).toEqual(['Project kickoff with Acme']);
    expect(page.next_page_token).toBeNull();
  });

  it('get_event_by_id returns the event, and treats unmatched filters as not found', async () => {
    const [kickoff] = (await call<EventPage>(searchEvents, { calendar_id: 'primary', query: 'Acme' })).events;
    const event = await call<GoogleEvent>(getEventById, { event_id: kickoff?.id });
    expect(event.summary).toBe('Project kickoff with Acme');
    expect(event.hangoutLink).toMatch(/meet\.google\.com/);
    await expect(
      call(getEventById, { event_id: kickoff?.id, time_max: '2026-03-03T00:00:00-05:00' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(call(getEventById, { event_id: kickoff?.id, query: 'dentist' })).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(await call<GoogleEvent>(getEventById, { event_id: kickoff?.id, event_types: ['default'] })).toMatchObject({
      id: kickoff?.id,
    });
  });

  it('get_event_by_id expands a recurring series within the window when single_events is true', async () => {
    const series = (
      await call<EventPage>(searchEvents, { calendar_id: 'primary', query: 'standup', single_events: false })
    ).events[0];
    const event = await call<GoogleEvent>(getEventById, {
      event_id: series?.id,
      single_events: true,
      time_min: '2026-03-02T00:00:00-05:00',
      time_max: '2026-03-07T00:00:00-05:00',
    });
    expect(event.recurrence).toBeDefined();
    expect(event.instances).toHaveLength(5);
    expect(event.instances?.every((i) => i.recurringEventId === series?.id)).toBe(true);
  });

  it('get_event_by_id surfaces an unknown id as ProviderError provider_not_found', async () => {
    const error = await failure(call(getEventById, { event_id: 'doesnotexist123' }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_not_found' });
  });

  it('list_event_instances lists the occurrences of a series in a window', async () => {
    const series = (
      await call<EventPage>(searchEvents, { calendar_id: 'primary', query: 'standup', single_events: false })
    ).events[0];
    const page = await call<EventPage>(listEventInstances, {
      calendar_id: 'primary',
      event_id: series?.id,
      time_min: '2026-03-09T00:00:00-04:00',
      time_max: '2026-03-14T00:00:00-04:00',
    });
    expect(page.events.map((e) => e.start.dateTime?.slice(0, 16))).toEqual([
      '2026-03-09T09:30',
      '2026-03-10T09:30',
      '2026-03-11T09:30',
      '2026-03-12T09:30',
      '2026-03-13T09:30',
    ]);
  });

  it('update_event moves the start and keeps the length', async () => {
    const created = await newEvent({ event_duration_minutes: 45 });
    const moved = await call<GoogleEvent>(updateEvent, {
      calendar_id: 'primary',
      event_id: created.id,
      start_datetime: '2026-03-20T11:00:00',
      timezone: 'Europe/Paris',
      summary: 'Moved',
    });
    expect(moved.summary).toBe('Moved');
    expect(Date.parse(moved.start.dateTime ?? '')).toBe(Date.parse('2026-03-20T10:00:00Z'));
    expect(minutes(moved)).toBe(45);
  });

  it('update_event sets a new length alone, or an explicit end, and refuses both at once', async () => {
    const created = await newEvent({});
    const longer = await call<GoogleEvent>(updateEvent, {
      calendar_id: 'primary',
      event_id: created.id,
      event_duration_hour: 2,
    });
    expect(longer.start.dateTime && Date.parse(longer.start.dateTime)).toBe(Date.parse('2026-03-20T15:00:00Z'));
    expect(minutes(longer)).toBe(120);
    const ended = await call<GoogleEvent>(updateEvent, {
      calendar_id: 'primary',
      event_id: created.id,
      end_datetime: '2026-03-20T15:10:00Z',
    });
    expect(minutes(ended)).toBe(10);
    await expect(
      call(updateEvent, {
        calendar_id: 'primary',
        event_id: created.id,
        end_datetime: '2026-03-20T16:00:00Z',
        event_duration_minutes: 5,
      }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid' });
    await expect(
      call(updateEvent, { calendar_id: 'primary', event_id: created.id, end_datetime: '2026-03-20T14:00:00Z' }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid', message: expect.stringContaining('end') });
  });

  it('update_event replaces guests but keeps the RSVP of those who stay, and adds a Meet link', async () => {
    const [kickoff] = (await call<EventPage>(searchEvents, { calendar_id: 'primary', query: 'Acme' })).events;
    const created = await newEvent({ attendees_emails: ['marco.ruiz@acme.example'] });
    expect(created.hangoutLink).toBeUndefined();
    const updated = await call<GoogleEvent>(updateEvent, {
      calendar_id: 'primary',
      event_id: created.id,
      attendees_emails: ['marco.ruiz@acme.example', 'new.person@example.com'],
      create_meeting_room: true,
      send_updates: false,
    });
    const guests = updated.attendees?.filter((a) => !a.organizer).map((a) => a.email);
    expect(guests).toEqual(['marco.ruiz@acme.example', 'new.person@example.com']);
    expect(updated.hangoutLink).toMatch(/meet\.google\.com/);
    expect(env.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      query: { conferenceDataVersion: '1', sendUpdates: 'none' },
    });
    // The seeded kickoff's tentative guest keeps "tentative" when the list is rewritten.
    const kept = await call<GoogleEvent>(updateEvent, {
      calendar_id: 'primary',
      event_id: kickoff?.id,
      attendees_emails: ['marco.ruiz@acme.example'],
    });
    expect(kept.attendees?.find((a) => a.email === 'marco.ruiz@acme.example')?.responseStatus).toBe('tentative');
  });

  it('update_event removes the Meet link with create_meeting_room false', async () => {
    const created = await newEvent({ create_meeting_room: true });
    expect(created.hangoutLink).toMatch(/meet\.google\.com/);
    const updated = await call<GoogleEvent>(updateEvent, {
      calendar_id: 'primary',
      event_id: created.id,
      create_meeting_room: false,
    });
    expect(updated.hangoutLink).toBeUndefined();
  });

  it('update_event checks its times before calling Google', async () => {
    const before = env.requests.length;
    await expect(
      call(updateEvent, { calendar_id: 'primary', event_id: 'any', start_datetime: 'soon' }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid', message: expect.stringContaining('start_datetime') });
    await expect(
      call(updateEvent, { calendar_id: 'primary', event_id: 'any', timezone: 'Nowhere/Land' }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid', message: expect.stringContaining('timezone') });
    expect(env.requests.length).toBe(before);
  });

  it('update_event refuses to change the event type', async () => {
    const created = await newEvent({});
    await expect(
      call(updateEvent, { calendar_id: 'primary', event_id: created.id, event_type: 'focusTime' }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid', message: expect.stringContaining('event_type') });
  });

  it('delete_event removes the event; a second delete is provider_not_found', async () => {
    const created = await newEvent({});
    expect(await call(deleteEvent, { event_id: created.id })).toEqual({
      deleted: true,
      calendar_id: 'primary',
      event_id: created.id,
    });
    const again = await failure(call(deleteEvent, { event_id: created.id }));
    expect(again).toBeInstanceOf(ProviderError);
    expect(again).toMatchObject({ code: 'provider_not_found' });
  });

  it('move_event moves an event to the Family calendar', async () => {
    const family = await familyCalendarId();
    const created = await newEvent({ summary: 'Soccer practice' });
    const moved = await call<GoogleEvent>(moveEvent, {
      calendar_id: 'primary',
      event_id: created.id,
      destination_calendar_id: family,
      send_updates: 'none',
    });
    expect(moved.id).toBe(created.id);
    const there = await call<EventPage>(searchEvents, { calendar_id: family, query: 'Soccer' });
    expect(there.events.map((e) => e.id)).toEqual([created.id]);
  });

  it('quick_add_event creates an event from a sentence', async () => {
    const event = await call<GoogleEvent>(quickAddEvent, {
      calendar_id: 'primary',
      text: 'Coffee with Ana on March 21 at 10am',
      send_updates: 'none',
    });
    expect(event.summary).toMatch(/Coffee with Ana/);
    expect(event.start.dateTime?.slice(0, 16)).toBe('2026-03-21T10:00');
    expect(env.requests.at(-1)?.query.text).toBe('Coffee with Ana on March 21 at 10am');
  });

  it('import_event imports by iCalUID, and importing it again updates the same copy', async () => {
    const input = {
      calendar_id: 'primary',
      ical_uid: 'import-test-1@outlook.example',
      start_datetime: '2026-03-22T09:00:00',
      end_datetime: '2026-03-22T10:30:00',
      timezone: 'America/Chicago',
      summary: 'Imported review',
      attendees_emails: ['ana@example.com'],
      status: 'tentative',
    };
    const first = await call<GoogleEvent>(importEvent, input);
    expect(first).toMatchObject({ iCalUID: 'import-test-1@outlook.example', status: 'tentative' });
    expect(Date.parse(first.start.dateTime ?? '')).toBe(Date.parse('2026-03-22T14:00:00Z'));
    expect(minutes(first)).toBe(90);
    const second = await call<GoogleEvent>(importEvent, { ...input, summary: 'Imported review v2' });
    expect(second.id).toBe(first.id);
    expect(second.summary).toBe('Imported review v2');
    await expect(call(importEvent, { ...input, end_datetime: '2026-03-22T08:00:00' })).rejects.toMatchObject({
      code: 'tool_input_invalid',
    });
  });
});

describe('calendar tools', () => {
  it('list_calendars lists the user calendars and filters by access role', async () => {
    const all = await call<{
      calendars: CalendarEntry[];
      next_page_token: string | null;
      next_sync_token: string | null;
    }>(listCalendars, {});
    expect(all.calendars.map((c) => c.summary)).toEqual(
      expect.arrayContaining([USER, 'Family', 'Holidays in United States']),
    );
    expect(all.next_page_token).toBeNull();
    expect(all.next_sync_token).toEqual(expect.any(String));
    const writable = await call<{ calendars: CalendarEntry[] }>(listCalendars, { min_access_role: 'writer' });
    expect(writable.calendars.some((c) => c.id === HOLIDAYS)).toBe(false);
    await expect(call(listCalendars, { sync_token: 'x', min_access_role: 'owner' })).rejects.toMatchObject({
      code: 'tool_input_invalid',
    });
  });

  it('get_calendar_list_entry shows the user view of a calendar', async () => {
    const entry = await call<CalendarEntry>(getCalendarListEntry, { calendar_id: 'primary' });
    expect(entry).toMatchObject({ id: USER, primary: true, accessRole: 'owner' });
  });

  it('create_calendar, get_calendar, update_calendar and delete_calendar manage a secondary calendar', async () => {
    const created = await call<{ id: string; summary: string; timeZone: string }>(createCalendar, {
      summary: 'Offsites',
      description: 'Team offsites',
      timezone: 'Europe/Paris',
    });
    expect(created).toMatchObject({ summary: 'Offsites', timeZone: 'Europe/Paris' });
    expect(await call(getCalendar, { calendar_id: created.id })).toMatchObject({
      id: created.id,
      description: 'Team offsites',
    });
    expect(
      await call(updateCalendar, { calendar_id: created.id, summary: 'Offsites 2026', location: 'Lisbon' }),
    ).toMatchObject({ summary: 'Offsites 2026', location: 'Lisbon', timeZone: 'Europe/Paris' });
    await expect(call(updateCalendar, { calendar_id: created.id })).rejects.toMatchObject({
      code: 'tool_input_invalid',
    });
    expect(await call(deleteCalendar, { calendar_id: created.id })).toEqual({ deleted: true, calendar_id: created.id });
    await expect(call(getCalendar, { calendar_id: created.id })).rejects.toMatchObject({ code: 'provider_not_found' });
    await expect(call(deleteCalendar, { calendar_id: 'primary' })).rejects.toMatchObject({
      code: 'tool_input_invalid',
    });
  });

  it('remove_calendar_from_list, add_calendar_to_list and update_calendar_list_entry manage the subscription', async () => {
    expect(await call(removeCalendarFromList, { calendar_id: HOLIDAYS })).toEqual({
      removed: true,
      calendar_id: HOLIDAYS,
    });
    const listed = await call<{ calendars: CalendarEntry[] }>(listCalendars, {});
    expect(listed.calendars.some((c) => c.id === HOLIDAYS)).toBe(false);
    const added = await call<CalendarEntry>(addCalendarToList, {
      calendar_id: HOLIDAYS,
      color_id: '3',
      selected: true,
    });
    expect(added).toMatchObject({ id: HOLIDAYS, colorId: '3' });
    const updated = await call<CalendarEntry>(updateCalendarListEntry, {
      calendar_id: HOLIDAYS,
      summary_override: 'US holidays',
      hidden: true,
    });
    expect(updated).toMatchObject({ summaryOverride: 'US holidays', hidden: true });
    await expect(call(updateCalendarListEntry, { calendar_id: HOLIDAYS })).rejects.toMatchObject({
      code: 'tool_input_invalid',
    });
  });

  it('clear_calendar empties the primary calendar', async () => {
    const own = await startToolHarness({
      provider: googleCalendar,
      scopes: [FULL_CALENDAR_SCOPE],
      now: SANDBOX_NOW,
      email: 'jane.doe@example.com',
    });
    try {
      const before = await runTool<EventPage>(searchEvents, { calendar_id: 'primary' }, own.ctx);
      expect(before.events.length).toBeGreaterThan(0);
      expect(await runTool(clearCalendar, { calendar_id: 'primary' }, own.ctx)).toEqual({
        cleared: true,
        calendar_id: 'primary',
      });
      const after = await runTool<EventPage>(searchEvents, { calendar_id: 'primary' }, own.ctx);
      expect(after.events).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('transfer_calendar_ownership asks Google with admin access', async () => {
    // The sandbox does not emulate calendars.transferOwnership; check the request on a stub.
    const seen: RecordedRequest[] = [];
    const stub = await serveOnLoopback(async (request) => {
      const url = new URL(request.url);
      seen.push({
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: undefined,
      });
      return new Response(null, { status: 204 });
    });
    try {
      const ctx = toolContext({ apiOrigins: googleCalendar.apiOrigins, baseUrl: stub.url, accessToken: 'test-token' });
      const result = await runTool(
        transferCalendarOwnership,
        { calendar_id: 'team@group.calendar.google.com', new_data_owner: 'ana@example.com' },
        ctx,
      );
      expect(result).toEqual({
        transferred: true,
        calendar_id: 'team@group.calendar.google.com',
        new_data_owner: 'ana@example.com',
      });
      expect(seen).toEqual([
        {
          method: 'POST',
          path: '/calendar/v3/calendars/team%40group.calendar.google.com/transferOwnership',
          query: { newDataOwner: 'ana@example.com', useAdminAccess: 'true' },
          body: undefined,
        },
      ]);
    } finally {
      await stub.close();
    }
  });
});

describe('sharing tools', () => {
  it('insert, get, update, list and delete an ACL rule', async () => {
    const family = await familyCalendarId();
    const rule = await call<{ id: string; role: string }>(insertAclRule, {
      calendar_id: family,
      role: 'reader',
      scope_type: 'user',
      scope_value: 'ana@example.com',
      send_notifications: false,
    });
    expect(rule).toMatchObject({ id: 'user:ana@example.com', role: 'reader' });
    expect(env.requests.at(-1)?.query.sendNotifications).toBe('false');
    expect(await call(getAclRule, { calendar_id: family, rule_id: rule.id })).toMatchObject({
      scope: { type: 'user', value: 'ana@example.com' },
    });
    expect(await call(updateAclRule, { calendar_id: family, rule_id: rule.id, role: 'writer' })).toMatchObject({
      role: 'writer',
    });
    const listed = await call<{ rules: { id: string }[]; next_page_token: string | null }>(listAclRules, {
      calendar_id: family,
    });
    expect(listed.rules.map((r) => r.id)).toEqual(expect.arrayContaining([`user:${USER}`, 'user:ana@example.com']));
    expect(await call(deleteAclRule, { calendar_id: family, rule_id: rule.id })).toEqual({
      deleted: true,
      calendar_id: family,
      rule_id: rule.id,
    });
    await expect(call(getAclRule, { calendar_id: family, rule_id: rule.id })).rejects.toMatchObject({
      code: 'provider_not_found',
    });
  });

  it('insert_acl_rule shares with the public without a scope value and checks scope_value', async () => {
    const family = await familyCalendarId();
    expect(
      await call(insertAclRule, { calendar_id: family, role: 'freeBusyReader', scope_type: 'default' }),
    ).toMatchObject({ id: 'default', role: 'freeBusyReader' });
    await expect(
      call(insertAclRule, { calendar_id: family, role: 'reader', scope_type: 'user' }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid' });
    await expect(
      call(insertAclRule, { calendar_id: family, role: 'reader', scope_type: 'default', scope_value: 'x' }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid' });
  });

  it("update_acl_rule surfaces Google's refusal to demote the owner as a ProviderError", async () => {
    const error = await failure(
      call(updateAclRule, { calendar_id: 'primary', rule_id: `user:${USER}`, role: 'reader' }),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_bad_request' });
  });
});

describe('settings, colors and free/busy', () => {
  it('get_setting reads one setting and list_settings lists them', async () => {
    expect(await call(getSetting, { setting: 'timezone' })).toMatchObject({
      id: 'timezone',
      value: 'America/New_York',
    });
    const all = await call<{ settings: { id: string }[]; next_page_token: string | null }>(listSettings, {});
    expect(all.settings.map((s) => s.id)).toEqual(expect.arrayContaining(['timezone', 'weekStart', 'locale']));
    expect(all.next_page_token).toBeNull();
  });

  it('get_colors returns the calendar and event palettes', async () => {
    const colors = await call<{ calendar: Record<string, { background: string }>; event: Record<string, unknown> }>(
      getColors,
      {},
    );
    expect(colors.calendar['1']?.background).toMatch(/^#[0-9a-f]{6}$/i);
    expect(Object.keys(colors.event).length).toBeGreaterThan(0);
  });

  it('query_freebusy answers the busy periods of the window', async () => {
    const answer = await call<{ calendars: Record<string, { busy: { start: string; end: string }[] }> }>(
      queryFreebusy,
      {
        calendar_ids: ['primary'],
        time_min: '2026-03-03T12:00:00',
        time_max: '2026-03-03T17:00:00',
        timezone: 'America/New_York',
      },
    );
    const busy = answer.calendars.primary?.busy ?? [];
    expect(busy.map((b) => [Date.parse(b.start), Date.parse(b.end)])).toEqual([
      [Date.parse('2026-03-03T17:30:00Z'), Date.parse('2026-03-03T18:30:00Z')],
      [Date.parse('2026-03-03T20:00:00Z'), Date.parse('2026-03-03T21:00:00Z')],
    ]);
    await expect(
      call(queryFreebusy, {
        calendar_ids: ['primary'],
        time_min: '2026-03-03T17:00:00Z',
        time_max: '2026-03-03T12:00:00Z',
      }),
    ).rejects.toMatchObject({ code: 'tool_input_invalid' });
  });
});
