/** Where Calendar v3 lives, and the resource paths the tools call. */

import { pathSegment } from '../path-segment.js';

export const CALENDAR_API = 'https://www.googleapis.com/calendar/v3';

// Calendar ids are often email addresses and event ids of recurring instances carry `_`:
// each path segment is encoded on its own so `@`, `#` and `/` never change the route.
const segment = pathSegment;

export const calendarUrl = (calendarId: string): string => `${CALENDAR_API}/calendars/${segment(calendarId)}`;

export const eventsUrl = (calendarId: string): string => `${calendarUrl(calendarId)}/events`;

export const eventUrl = (calendarId: string, eventId: string): string => `${eventsUrl(calendarId)}/${segment(eventId)}`;

export const aclUrl = (calendarId: string): string => `${calendarUrl(calendarId)}/acl`;

export const aclRuleUrl = (calendarId: string, ruleId: string): string => `${aclUrl(calendarId)}/${segment(ruleId)}`;

export const CALENDAR_LIST_URL = `${CALENDAR_API}/users/me/calendarList`;

export const calendarListEntryUrl = (calendarId: string): string => `${CALENDAR_LIST_URL}/${segment(calendarId)}`;

export const SETTINGS_URL = `${CALENDAR_API}/users/me/settings`;

export const COLORS_URL = `${CALENDAR_API}/colors`;

export const FREEBUSY_URL = `${CALENDAR_API}/freeBusy`;
