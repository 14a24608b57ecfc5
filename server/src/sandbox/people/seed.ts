import { createHash } from 'node:crypto';
import type { SandboxUser } from '../context.js';

/** One entry of a user's address book, before a field mask is applied. */
export interface ContactRecord {
  /** `c` + 19 digits, as in `people/c…` and `otherContacts/c…`. */
  id: string;
  givenName: string;
  familyName: string;
  nickname?: string;
  emails: { value: string; type: 'home' | 'work' | 'other' }[];
  phones: { value: string; canonicalForm: string; type: 'mobile' | 'work' | 'home' }[];
  organization?: { name: string; title?: string };
  updateTime: number;
}

export interface AddressBook {
  /** Saved contacts ("people/c…"). */
  contacts: ContactRecord[];
  /** People the user exchanged mail with but never saved ("otherContacts/c…"). */
  otherContacts: ContactRecord[];
}

type Seed = Omit<ContactRecord, 'id' | 'updateTime'>;

const DAY = 86_400_000;

// Contacts everyone has besides the other sandbox users; the first two write in the seeded mail.
const SAVED: Seed[] = [
  {
    givenName: 'Priya',
    familyName: 'Natarajan',
    emails: [{ value: 'priya@acme-corp.example', type: 'work' }],
    phones: [{ value: '(415) 555-0142', canonicalForm: '+14155550142', type: 'work' }],
    organization: { name: 'Acme Corp', title: 'Product Manager' },
  },
  {
    givenName: 'Sarah',
    familyName: 'Lee',
    emails: [
      { value: 'sarah.lee@globex.example', type: 'work' },
      { value: 'sarah.lee.home@mail.example', type: 'home' },
    ],
    phones: [{ value: '+1 415-555-0187', canonicalForm: '+14155550187', type: 'mobile' }],
    organization: { name: 'Globex', title: 'Head of Sales' },
  },
  {
    givenName: 'Marco',
    familyName: 'Bianchi',
    nickname: 'Marc',
    emails: [{ value: 'marco.bianchi@initech.example', type: 'work' }],
    phones: [{ value: '+39 02 5555 0199', canonicalForm: '+390255550199', type: 'work' }],
    organization: { name: 'Initech' },
  },
  {
    givenName: 'Fatima',
    familyName: 'Zahra',
    emails: [{ value: 'fatima.zahra@mail.example', type: 'home' }],
    phones: [],
  },
];

const OTHER: Seed[] = [
  {
    givenName: 'Acme',
    familyName: 'Billing',
    emails: [{ value: 'billing@acme-corp.example', type: 'other' }],
    phones: [],
  },
  {
    givenName: 'Sam',
    familyName: 'Okafor',
    emails: [{ value: 'sam.okafor@contractors.example', type: 'other' }],
    phones: [{ value: '+1 212-555-0110', canonicalForm: '+12125550110', type: 'mobile' }],
  },
];

/** Stable ids per owner, so a contact keeps its resource name across sandbox restarts. */
function contactId(owner: SandboxUser, email: string): string {
  const digest = createHash('sha256').update(`${owner.email}\n${email}`).digest();
  return `c${digest.readBigUInt64BE(0).toString().padStart(19, '0').slice(0, 19)}`;
}

function record(owner: SandboxUser, seed: Seed, updateTime: number): ContactRecord {
  return { ...seed, id: contactId(owner, seed.emails[0]?.value ?? seed.givenName), updateTime };
}

/** The address book of `owner`: every other sandbox user and a few outside people. */
export function seedAddressBook(owner: SandboxUser, users: readonly SandboxUser[], now: number): AddressBook {
  const colleagues: Seed[] = users
    .filter((user) => user.email !== owner.email)
    .map((user) => ({
      givenName: user.givenName,
      familyName: user.familyName,
      emails: [{ value: user.email, type: 'work' }],
      phones: [],
      organization: { name: 'Example Inc.' },
    }));
  const saved = [...colleagues, ...SAVED];
  return {
    contacts: saved.map((seed, index) => record(owner, seed, now - (index + 1) * DAY)),
    otherContacts: OTHER.map((seed, index) => record(owner, seed, now - (index + 1) * 3 * DAY)),
  };
}
