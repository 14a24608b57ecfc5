/**
 * The OAuth scopes each Calendar v3 method accepts (any one suffices), as Google's API
 * discovery document lists them per method.
 * https://developers.google.com/workspace/calendar/api/auth
 */
const AUTH = 'https://www.googleapis.com/auth/';

const CALENDAR = `${AUTH}calendar`;
const READONLY = `${AUTH}calendar.readonly`;
const APP_CREATED = `${AUTH}calendar.app.created`;
const EVENTS = `${AUTH}calendar.events`;
const EVENTS_READONLY = `${AUTH}calendar.events.readonly`;
const EVENTS_OWNED = `${AUTH}calendar.events.owned`;
const EVENTS_OWNED_READONLY = `${AUTH}calendar.events.owned.readonly`;
const EVENTS_PUBLIC_READONLY = `${AUTH}calendar.events.public.readonly`;
const EVENTS_FREEBUSY = `${AUTH}calendar.events.freebusy`;
const FREEBUSY = `${AUTH}calendar.freebusy`;
const ACLS = `${AUTH}calendar.acls`;
const ACLS_READONLY = `${AUTH}calendar.acls.readonly`;
const CALENDARLIST = `${AUTH}calendar.calendarlist`;
const CALENDARLIST_READONLY = `${AUTH}calendar.calendarlist.readonly`;
const CALENDARS = `${AUTH}calendar.calendars`;
const CALENDARS_READONLY = `${AUTH}calendar.calendars.readonly`;
const SETTINGS_READONLY = `${AUTH}calendar.settings.readonly`;

export const SCOPES = {
  /** events.insert, import, patch, update, delete, quickAdd */
  eventsWrite: [CALENDAR, APP_CREATED, EVENTS, EVENTS_OWNED],
  /** events.move (no app.created: the event leaves the calendar the app made) */
  eventsMove: [CALENDAR, EVENTS, EVENTS_OWNED],
  /** events.get, list, instances */
  eventsRead: [
    CALENDAR,
    APP_CREATED,
    EVENTS,
    EVENTS_FREEBUSY,
    EVENTS_OWNED,
    EVENTS_OWNED_READONLY,
    EVENTS_PUBLIC_READONLY,
    EVENTS_READONLY,
    READONLY,
  ],
  /** acl.insert, patch, update, delete */
  aclWrite: [CALENDAR, ACLS],
  aclGet: [CALENDAR, ACLS, ACLS_READONLY, READONLY],
  aclList: [CALENDAR, ACLS, ACLS_READONLY],
  calendarListInsert: [CALENDAR, CALENDARLIST],
  /** calendarList.patch, update, delete */
  calendarListWrite: [CALENDAR, APP_CREATED, CALENDARLIST],
  calendarListGet: [CALENDAR, APP_CREATED, CALENDARLIST, CALENDARLIST_READONLY, READONLY],
  calendarListList: [CALENDAR, CALENDARLIST, CALENDARLIST_READONLY, READONLY],
  /** calendars.insert, patch, update, delete */
  calendarsWrite: [CALENDAR, APP_CREATED, CALENDARS],
  /** calendars.clear and transferOwnership reach beyond app-created calendars */
  calendarsAdmin: [CALENDAR, CALENDARS],
  calendarsGet: [CALENDAR, APP_CREATED, CALENDARS, CALENDARS_READONLY, READONLY],
  colors: [
    CALENDAR,
    APP_CREATED,
    CALENDARLIST,
    CALENDARLIST_READONLY,
    EVENTS_FREEBUSY,
    EVENTS_OWNED,
    EVENTS_OWNED_READONLY,
    EVENTS_PUBLIC_READONLY,
    READONLY,
  ],
  freebusy: [CALENDAR, EVENTS_FREEBUSY, FREEBUSY, READONLY],
  settings: [CALENDAR, READONLY, SETTINGS_READONLY],
} satisfies Record<string, string[]>;
