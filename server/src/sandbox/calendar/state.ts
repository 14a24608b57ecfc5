import type { SandboxUser } from '../context.js';
import type { CivilDate } from './time.js';

/**
 * One user's Calendar world. Every write bumps `revision`; records remember the revision of their
 * last change, which is what sync tokens compare against.
 */
export type AccessRole = 'freeBusyReader' | 'reader' | 'writer' | 'owner';

export type EventTime = { kind: 'date'; date: CivilDate } | { kind: 'dateTime'; instant: number; timeZone?: string };

export interface Person {
  email: string;
  displayName?: string;
  self?: boolean;
}

export interface Attendee {
  email: string;
  displayName?: string;
  optional?: boolean;
  resource?: boolean;
  responseStatus: 'needsAction' | 'declined' | 'tentative' | 'accepted';
  comment?: string;
  additionalGuests?: number;
  organizer?: boolean;
  self?: boolean;
}

export interface Reminder {
  method: 'email' | 'popup';
  minutes: number;
}

export interface EntryPoint {
  entryPointType: string;
  uri: string;
  label?: string;
  pin?: string;
  regionCode?: string;
}

export interface ConferenceData {
  createRequest?: {
    requestId: string;
    conferenceSolutionKey: { type: string };
    status: { statusCode: 'pending' | 'success' | 'failure' };
  };
  entryPoints?: EntryPoint[];
  conferenceSolution?: { key: { type: string }; name: string; iconUri: string };
  conferenceId?: string;
  notes?: string;
}

export interface EventRecord {
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  created: number;
  updated: number;
  revision: number;
  sequence: number;
  iCalUID: string;
  creator: Person;
  organizer: Person;
  start: EventTime;
  end: EventTime;
  endTimeUnspecified?: boolean;
  recurrence?: string[];
  recurringEventId?: string;
  originalStart?: EventTime;
  summary?: string;
  description?: string;
  location?: string;
  colorId?: string;
  visibility?: 'default' | 'public' | 'private' | 'confidential';
  transparency?: 'opaque' | 'transparent';
  attendees?: Attendee[];
  reminders: { useDefault: boolean; overrides?: Reminder[] };
  conferenceData?: ConferenceData;
  hangoutLink?: string;
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  guestsCanInviteOthers?: boolean;
  guestsCanModify?: boolean;
  guestsCanSeeOtherGuests?: boolean;
  anyoneCanAddSelf?: boolean;
  source?: { url: string; title?: string };
  eventType: string;
}

export interface AclRecord {
  id: string;
  scope: { type: 'default' | 'user' | 'group' | 'domain'; value?: string };
  role: 'none' | AccessRole;
  revision: number;
  updated: number;
  deleted?: boolean;
}

export interface CalendarRecord {
  id: string;
  summary: string;
  description?: string;
  location?: string;
  timeZone: string;
  accessRole: AccessRole;
  primary: boolean;
  revision: number;
  updated: number;
  events: Map<string, EventRecord>;
  acl: Map<string, AclRecord>;
}

export interface CalendarListRecord {
  id: string;
  summaryOverride?: string;
  colorId: string;
  backgroundColor: string;
  foregroundColor: string;
  hidden: boolean;
  selected: boolean;
  defaultReminders: Reminder[];
  notificationSettings?: { notifications: { type: string; method: string }[] };
  revision: number;
  updated: number;
  deleted?: boolean;
}

export interface CalendarState {
  user: SandboxUser;
  revision: number;
  calendars: Map<string, CalendarRecord>;
  calendarList: Map<string, CalendarListRecord>;
  settings: Map<string, string>;
}

export function nextRevision(state: CalendarState): number {
  state.revision += 1;
  return state.revision;
}
