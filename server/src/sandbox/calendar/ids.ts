import { toBase64Url } from './tokens.js';

/** Identifiers shaped like Google's: event ids are base32hex (0-9, a-v), Meet codes are xxx-xxxx-xxx. */
const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function randomFrom(alphabet: string, length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

export const newEventId = (): string => randomFrom(BASE32HEX, 26);

export const newCalendarId = (): string => `c_${randomFrom(BASE32HEX, 26)}@group.calendar.google.com`;

export const newMeetCode = (): string =>
  `${randomFrom(LETTERS, 3)}-${randomFrom(LETTERS, 4)}-${randomFrom(LETTERS, 3)}`;

/** Client-chosen event ids must use base32hex characters and be 5 to 1024 long (events.insert `id`). */
export const isValidEventId = (id: string): boolean => /^[0-9a-v]{5,1024}$/.test(id);

/** Google etags are quoted microsecond-looking numbers; the revision keeps two writes in one millisecond apart. */
export const etagOf = (updated: number, revision: number): string => `"${updated * 1000 + (revision % 1000)}"`;

/** `eid` of an htmlLink: base64 of "eventId calendarId", the calendar shortened like Google does for gmail.com. */
export function htmlLinkOf(eventId: string, calendarId: string): string {
  const owner = calendarId.replace(/@gmail\.com$/, '@m');
  const eid = toBase64Url(`${eventId} ${owner}`);
  return `https://www.google.com/calendar/event?eid=${eid}`;
}
