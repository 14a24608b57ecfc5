/**
 * The OAuth scopes each Calendar v3 method accepts, as listed in Google's discovery document
 * (https://developers.google.com/workspace/calendar/api/auth). Any one of them is enough.
 */
const auth = (suffix: string): string => `https://www.googleapis.com/auth/${suffix}`;

const eventsRead = [
  'calendar',
  'calendar.app.created',
  'calendar.events',
  'calendar.events.freebusy',
  'calendar.events.owned',
  'calendar.events.owned.readonly',
  'calendar.events.public.readonly',
  'calendar.events.readonly',
  'calendar.readonly',
].map(auth);

const eventsWrite = ['calendar', 'calendar.app.created', 'calendar.events', 'calendar.events.owned'].map(auth);

export const calendarScopes = {
  aclRead: ['calendar', 'calendar.acls', 'calendar.acls.readonly', 'calendar.readonly'].map(auth),
  aclWrite: ['calendar', 'calendar.acls'].map(auth),
  calendarListRead: [
    'calendar',
    'calendar.app.created',
    'calendar.calendarlist',
    'calendar.calendarlist.readonly',
    'calendar.readonly',
  ].map(auth),
  calendarListInsert: ['calendar', 'calendar.calendarlist'].map(auth),
  calendarListWrite: ['calendar', 'calendar.app.created', 'calendar.calendarlist'].map(auth),
  calendarsRead: [
    'calendar',
    'calendar.app.created',
    'calendar.calendars',
    'calendar.calendars.readonly',
    'calendar.readonly',
  ].map(auth),
  calendarsWrite: ['calendar', 'calendar.app.created', 'calendar.calendars'].map(auth),
  calendarsClear: ['calendar', 'calendar.calendars'].map(auth),
  colors: [
    'calendar',
    'calendar.app.created',
    'calendar.calendarlist',
    'calendar.calendarlist.readonly',
    'calendar.events.freebusy',
    'calendar.events.owned',
    'calendar.events.owned.readonly',
    'calendar.events.public.readonly',
    'calendar.readonly',
  ].map(auth),
  eventsRead,
  eventsWrite,
  eventsMove: ['calendar', 'calendar.events', 'calendar.events.owned'].map(auth),
  freeBusy: ['calendar', 'calendar.events.freebusy', 'calendar.freebusy', 'calendar.readonly'].map(auth),
  settings: ['calendar', 'calendar.readonly', 'calendar.settings.readonly'].map(auth),
} as const;
