import type { SandboxUser } from '../context.js';
import { type EventInput, writeEvent } from './event-input.js';
import { newCalendarId } from './ids.js';
import { calendarColors } from './palette.js';
import type { AccessRole, CalendarListRecord, CalendarRecord, CalendarState, Reminder } from './state.js';
import { addDays, type CivilDate, formatDate, toLocal, weekday } from './time.js';

/**
 * A new user's Calendar, laid out around the sandbox clock's "now" at first use:
 * - primary calendar (id = email) in America/New_York, default reminder popup 10 min;
 * - "Team standup", weekdays 09:30–09:45, recurring weekly since last week's Monday;
 * - "Dentist appointment" yesterday 16:00; "Lunch with Priya" tomorrow 12:30;
 * - "Project kickoff with Acme" tomorrow 15:00 with two guests and a Meet link;
 * - "Quarterly planning offsite", all-day, three days from today;
 * - secondary calendar "Family" with "Piano recital" four days from today at 18:00;
 * - "Holidays in United States", subscribed read-only (no events), to exercise access roles.
 */
export const SEED_TIME_ZONE = 'America/New_York';
export const HOLIDAY_CALENDAR_ID = 'en.usa#holiday@group.v.calendar.google.com';

export const DEFAULT_SETTINGS: [string, string][] = [
  ['autoAddHangouts', 'false'],
  ['dateFieldOrder', 'MDY'],
  ['defaultEventLength', '60'],
  ['format24HourTime', 'false'],
  ['hideInvitations', 'false'],
  ['hideWeekends', 'false'],
  ['locale', 'en'],
  ['remindOnRespondedEventsOnly', 'false'],
  ['showDeclinedEvents', 'true'],
  ['timezone', SEED_TIME_ZONE],
  ['useKeyboardShortcuts', 'true'],
  ['weekStart', '0'],
];

const NOTIFICATIONS = ['eventCreation', 'eventChange', 'eventCancellation', 'eventResponse'].map((type) => ({
  type,
  method: 'email',
}));

export function newCalendar(
  fields: { id: string; summary: string; timeZone: string; accessRole: AccessRole; primary?: boolean },
  now: number,
  revision: number,
): CalendarRecord {
  const calendar: CalendarRecord = {
    ...fields,
    primary: fields.primary ?? false,
    revision,
    updated: now,
    events: new Map(),
    acl: new Map(),
  };
  return calendar;
}

export function newListEntry(
  id: string,
  colorId: string,
  defaultReminders: Reminder[],
  now: number,
  revision: number,
): CalendarListRecord {
  return {
    id,
    colorId,
    backgroundColor: calendarColors[colorId]?.background ?? '#9fe1e7',
    foregroundColor: '#000000',
    hidden: false,
    selected: true,
    defaultReminders,
    revision,
    updated: now,
  };
}

export function ownerRule(email: string, now: number, revision: number) {
  return {
    id: `user:${email}`,
    scope: { type: 'user' as const, value: email },
    role: 'owner' as const,
    revision,
    updated: now,
  };
}

export function seedCalendarState(user: SandboxUser, now: number): CalendarState {
  const state: CalendarState = {
    user,
    revision: 1,
    calendars: new Map(),
    calendarList: new Map(),
    settings: new Map(DEFAULT_SETTINGS),
  };
  const primary = newCalendar(
    { id: user.email, summary: user.email, timeZone: SEED_TIME_ZONE, accessRole: 'owner', primary: true },
    now,
    1,
  );
  primary.acl.set(`user:${user.email}`, ownerRule(user.email, now, 1));
  const family = newCalendar(
    { id: newCalendarId(), summary: 'Family', timeZone: SEED_TIME_ZONE, accessRole: 'owner' },
    now,
    1,
  );
  family.description = 'Family plans and kids activities';
  family.acl.set(`user:${user.email}`, ownerRule(user.email, now, 1));
  const holidays = newCalendar(
    { id: HOLIDAY_CALENDAR_ID, summary: 'Holidays in United States', timeZone: SEED_TIME_ZONE, accessRole: 'reader' },
    now,
    1,
  );
  holidays.description = 'Holidays and Observances in United States';
  for (const calendar of [primary, family, holidays]) state.calendars.set(calendar.id, calendar);

  const primaryEntry = newListEntry(primary.id, '14', [{ method: 'popup', minutes: 10 }], now, 1);
  primaryEntry.notificationSettings = { notifications: NOTIFICATIONS };
  state.calendarList.set(primary.id, primaryEntry);
  state.calendarList.set(family.id, newListEntry(family.id, '7', [], now, 1));
  state.calendarList.set(holidays.id, newListEntry(holidays.id, '8', [], now, 1));

  const local = toLocal(now, SEED_TIME_ZONE);
  const today: CivilDate = { year: local.year, month: local.month, day: local.day };
  const at = (date: CivilDate, hour: number, minute: number) => ({
    dateTime: `${formatDate(date)}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00`,
    timeZone: SEED_TIME_ZONE,
  });
  const lastMonday = addDays(today, -((weekday(today) + 6) % 7) - 7);
  const tomorrow = addDays(today, 1);
  const teammate = (name: string) => `${name}@example.com`;

  const primaryEvents: EventInput[] = [
    {
      summary: 'Team standup',
      description: 'Daily sync: yesterday, today, blockers.',
      start: at(lastMonday, 9, 30),
      end: at(lastMonday, 9, 45),
      recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'],
      attendees: [{ email: teammate('sam.rivera') }, { email: teammate('lee.chen'), responseStatus: 'accepted' }],
    },
    {
      summary: 'Dentist appointment',
      location: 'Bright Smile Dental, 200 Park Ave S, New York, NY',
      start: at(addDays(today, -1), 16, 0),
      end: at(addDays(today, -1), 17, 0),
    },
    {
      summary: 'Lunch with Priya',
      location: 'Blue Bottle Coffee, 54 W 40th St, New York, NY',
      start: at(tomorrow, 12, 30),
      end: at(tomorrow, 13, 30),
    },
    {
      summary: 'Project kickoff with Acme',
      description: 'Scope, milestones and owners for the Acme integration.',
      start: at(tomorrow, 15, 0),
      end: at(tomorrow, 16, 0),
      attendees: [
        { email: 'dana.whitfield@acme.example', displayName: 'Dana Whitfield' },
        { email: 'marco.ruiz@acme.example', displayName: 'Marco Ruiz', responseStatus: 'tentative' },
      ],
      conferenceData: { createRequest: { requestId: 'seed-kickoff', conferenceSolutionKey: { type: 'hangoutsMeet' } } },
      reminders: {
        useDefault: false,
        overrides: [
          { method: 'email', minutes: 60 },
          { method: 'popup', minutes: 10 },
        ],
      },
    },
    {
      summary: 'Quarterly planning offsite',
      location: 'Brooklyn Navy Yard, Building 77',
      start: { date: formatDate(addDays(today, 3)) },
      end: { date: formatDate(addDays(today, 4)) },
    },
  ];
  const familyEvents: EventInput[] = [
    {
      summary: 'Piano recital',
      location: 'Community Music Center',
      start: at(addDays(today, 4), 18, 0),
      end: at(addDays(today, 4), 19, 30),
    },
  ];
  for (const [calendar, inputs] of [
    [primary, primaryEvents],
    [family, familyEvents],
  ] as const) {
    for (const input of inputs) {
      const event = writeEvent(input, { user, calendar, now, revision: 1, conferenceDataVersion: 1 });
      calendar.events.set(event.id, event);
    }
  }
  return state;
}
