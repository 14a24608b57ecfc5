import { createHash } from 'node:crypto';
import type { ContactRecord } from './seed.js';

/** A contact in the People API's Person shape, cut down to a field mask. */

export type Collection = 'people' | 'otherContacts';

// https://developers.google.com/people/api/rest/v1/people.connections/list (personFields)
export const PERSON_FIELDS = new Set([
  'addresses',
  'ageRanges',
  'biographies',
  'birthdays',
  'calendarUrls',
  'clientData',
  'coverPhotos',
  'emailAddresses',
  'events',
  'externalIds',
  'genders',
  'imClients',
  'interests',
  'locales',
  'locations',
  'memberships',
  'metadata',
  'miscKeywords',
  'names',
  'nicknames',
  'occupations',
  'organizations',
  'phoneNumbers',
  'photos',
  'relations',
  'sipAddresses',
  'skills',
  'urls',
  'userDefined',
]);

// https://developers.google.com/people/api/rest/v1/otherContacts/search (readMask)
export const OTHER_CONTACT_FIELDS = new Set(['emailAddresses', 'metadata', 'names', 'phoneNumbers', 'photos']);

const FORMATTED_TYPE: Record<string, string> = { home: 'Home', work: 'Work', other: 'Other', mobile: 'Mobile' };

/**
 * Reads a field mask ("names,emailAddresses", also the legacy "person.names" spelling).
 * Returns the fields, or the first path that is not allowed.
 */
export function parseMask(value: string | undefined, allowed: Set<string>): { fields: Set<string> } | { bad: string } {
  const fields = new Set<string>();
  for (const raw of (value ?? '').split(',')) {
    const path = raw.trim().replace(/^person\./, '');
    if (!path) continue;
    if (!allowed.has(path)) return { bad: raw.trim() };
    fields.add(path);
  }
  return { fields };
}

function sourceOf(contact: ContactRecord, collection: Collection) {
  return {
    type: collection === 'people' ? 'CONTACT' : 'OTHER_CONTACT',
    id: BigInt(contact.id.slice(1)).toString(16),
  };
}

function etag(prefix: string, contact: ContactRecord): string {
  return `${prefix}${createHash('sha1').update(`${contact.id}:${contact.updateTime}`).digest('base64').slice(0, 16)}`;
}

export function renderPerson(contact: ContactRecord, collection: Collection, fields: Set<string>) {
  const source = sourceOf(contact, collection);
  const meta = (primary: boolean) => ({ ...(primary ? { primary: true } : {}), source });
  const displayName = [contact.givenName, contact.familyName].filter(Boolean).join(' ');
  const person: Record<string, unknown> = {
    resourceName: `${collection}/${contact.id}`,
    etag: etag('%Eg', contact),
  };
  if (fields.has('metadata')) {
    person.metadata = {
      sources: [{ ...source, etag: etag('#', contact), updateTime: new Date(contact.updateTime).toISOString() }],
      objectType: 'PERSON',
    };
  }
  if (fields.has('names')) {
    person.names = [
      {
        metadata: meta(true),
        displayName,
        familyName: contact.familyName,
        givenName: contact.givenName,
        displayNameLastFirst: contact.familyName ? `${contact.familyName}, ${contact.givenName}` : contact.givenName,
        unstructuredName: displayName,
      },
    ];
  }
  if (fields.has('nicknames') && contact.nickname) {
    person.nicknames = [{ metadata: meta(true), value: contact.nickname }];
  }
  if (fields.has('emailAddresses') && contact.emails.length > 0) {
    person.emailAddresses = contact.emails.map((email, index) => ({
      metadata: meta(index === 0),
      value: email.value,
      type: email.type,
      formattedType: FORMATTED_TYPE[email.type] ?? email.type,
    }));
  }
  if (fields.has('phoneNumbers') && contact.phones.length > 0) {
    person.phoneNumbers = contact.phones.map((phone, index) => ({
      metadata: meta(index === 0),
      value: phone.value,
      canonicalForm: phone.canonicalForm,
      type: phone.type,
      formattedType: FORMATTED_TYPE[phone.type] ?? phone.type,
    }));
  }
  if (fields.has('organizations') && contact.organization) {
    person.organizations = [{ metadata: meta(true), ...contact.organization }];
  }
  if (fields.has('memberships') && collection === 'people') {
    person.memberships = [
      {
        metadata: { source },
        contactGroupMembership: { contactGroupId: 'myContacts', contactGroupResourceName: 'contactGroups/myContacts' },
      },
    ];
  }
  if (fields.has('photos')) {
    // Google answers a generated letter avatar, flagged `default`, for contacts without a photo.
    person.photos = [
      {
        metadata: meta(true),
        url: `https://lh3.googleusercontent.com/cm/sandbox-${contact.id}=s100`,
        default: true,
      },
    ];
  }
  return person;
}

const folded = (text: string) => text.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '');

/**
 * Google's prefix-phrase match: "foo name" matches "f", "foo n" and "nam", not "oo n".
 * A phrase may start at any word of the field (after a space or punctuation).
 */
function matchesPhrase(value: string, query: string): boolean {
  const text = folded(value);
  for (let index = 0; index < text.length; index++) {
    const atWordStart = index === 0 || !/[\p{L}\p{N}]/u.test(text[index - 1] ?? '');
    if (atWordStart && text.startsWith(query, index)) return true;
  }
  return false;
}

/** Which fields a search looks at: saved contacts also match on nicknames and organizations. */
export function matchesQuery(contact: ContactRecord, collection: Collection, rawQuery: string): boolean {
  const query = folded(rawQuery.trim());
  if (!query) return false;
  const values = [
    `${contact.givenName} ${contact.familyName}`,
    `${contact.familyName} ${contact.givenName}`,
    ...contact.emails.map((email) => email.value),
    ...contact.phones.map((phone) => phone.value),
  ];
  if (collection === 'people') {
    if (contact.nickname) values.push(contact.nickname);
    if (contact.organization) values.push(contact.organization.name);
  }
  if (values.some((value) => matchesPhrase(value, query))) return true;
  // Phone numbers also match on their digits, so "+1 415" finds "(415) 555-0142" via +14155550142.
  const digits = query.replace(/\D/g, '');
  return (
    digits.length >= 3 &&
    /^[\d\s()+.-]+$/.test(query) &&
    contact.phones.some((phone) => phone.canonicalForm.replace(/\D/g, '').includes(digits))
  );
}
