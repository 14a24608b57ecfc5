import { type Context, Hono } from 'hono';
import type { SandboxContext, SandboxPrincipal, SandboxUser } from '../context.js';
import { invalidArgument } from '../google-errors.js';
import {
  type Collection,
  matchesQuery,
  OTHER_CONTACT_FIELDS,
  PERSON_FIELDS,
  parseMask,
  renderPerson,
} from './person.js';
import { PEOPLE_SCOPES } from './scopes.js';
import { type AddressBook, type ContactRecord, seedAddressBook } from './seed.js';

/** What the People emulator needs beyond the shared contract: the other users, as contacts. */
export interface PeopleContext extends SandboxContext {
  readonly users: readonly SandboxUser[];
  authenticate(request: Request, acceptedScopes: string[], method?: string): SandboxPrincipal | Response;
}

const SORT_ORDERS = [
  'LAST_MODIFIED_ASCENDING',
  'LAST_MODIFIED_DESCENDING',
  'FIRST_NAME_ASCENDING',
  'LAST_NAME_ASCENDING',
];

const DOCS = 'https://developers.google.com/people/api/rest/v1';

function integerParam(c: Context, name: string, fallback: number): number | Response {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) return invalidArgument(`Invalid value at '${name}' (TYPE_INT32), "${raw}"`);
  if (value < 0) return invalidArgument(`${name} must not be negative.`);
  return value;
}

function sortContacts(contacts: ContactRecord[], order: string): ContactRecord[] {
  const byName = (a: string, b: string) => a.localeCompare(b, 'en', { sensitivity: 'base' });
  const sorted = [...contacts];
  if (order === 'LAST_MODIFIED_ASCENDING') sorted.sort((a, b) => a.updateTime - b.updateTime);
  else if (order === 'LAST_MODIFIED_DESCENDING') sorted.sort((a, b) => b.updateTime - a.updateTime);
  else if (order === 'FIRST_NAME_ASCENDING') sorted.sort((a, b) => byName(a.givenName, b.givenName));
  else sorted.sort((a, b) => byName(a.familyName, b.familyName));
  return sorted;
}

/**
 * The parts of the Google People API v1 the contact tools use, at Google's paths:
 * people.connections.list, people.searchContacts and otherContacts.search.
 * https://developers.google.com/people/api/rest
 */
export function createPeopleApi(ctx: PeopleContext): Hono {
  const app = new Hono();
  const addressBookOf = (user: SandboxUser): AddressBook =>
    ctx.userData('people', user, (owner) => seedAddressBook(owner, ctx.users, ctx.clock.now()));

  app.get('/v1/people/:person/connections', (c) => {
    const principal = ctx.authenticate(
      c.req.raw,
      PEOPLE_SCOPES.contactsRead,
      'google.people.v1.PeopleService.ListConnections',
    );
    if (principal instanceof Response) return principal;
    if (c.req.param('person') !== 'me') return invalidArgument('Only people/me is supported as resourceName.');
    const personFields = c.req.query('personFields');
    if (!personFields?.trim()) {
      return invalidArgument(
        `personFields mask is required. Please specify one or more valid paths. Valid paths are documented at ${DOCS}/people.connections/list.`,
      );
    }
    const mask = parseMask(personFields, PERSON_FIELDS);
    if ('bad' in mask) {
      return invalidArgument(
        `Invalid personFields mask path: "${mask.bad}". Valid paths are documented at ${DOCS}/people.connections/list.`,
      );
    }
    const sortOrder = c.req.query('sortOrder') ?? 'LAST_MODIFIED_ASCENDING';
    if (!SORT_ORDERS.includes(sortOrder)) {
      return invalidArgument(
        `Invalid value at 'sort_order' (type.googleapis.com/google.apps.people.v1.ListConnectionsRequest.SortOrder), "${sortOrder}"`,
      );
    }
    const requested = integerParam(c, 'pageSize', 100);
    if (requested instanceof Response) return requested;
    if (requested > 1000) return invalidArgument('pageSize must be between 1 and 1000, inclusive.');
    const size = requested || 100;
    let offset = 0;
    const token = c.req.query('pageToken');
    if (token) {
      const decoded = Number(
        Buffer.from(token, 'base64url')
          .toString('utf8')
          .replace(/^connections:/, ''),
      );
      if (!Number.isInteger(decoded) || decoded < 0) return invalidArgument('Page token is not valid.');
      offset = decoded;
    }
    const all = sortContacts(addressBookOf(principal.user).contacts, sortOrder);
    const page = all.slice(offset, offset + size);
    const next =
      offset + size < all.length ? Buffer.from(`connections:${offset + size}`).toString('base64url') : undefined;
    // Google leaves `connections` out of an empty page but always counts.
    return c.json({
      ...(page.length > 0 ? { connections: page.map((contact) => renderPerson(contact, 'people', mask.fields)) } : {}),
      ...(next ? { nextPageToken: next } : {}),
      totalPeople: all.length,
      totalItems: all.length,
    });
  });

  function search(
    c: Context,
    collection: Collection,
    scopes: string[],
    method: string,
    allowed: Set<string>,
    docsPath: string,
  ): Response {
    const principal = ctx.authenticate(c.req.raw, scopes, method);
    if (principal instanceof Response) return principal;
    const query = c.req.query('query');
    if (query === undefined) return invalidArgument('query is required.');
    const readMask = c.req.query('readMask');
    if (!readMask?.trim()) {
      return invalidArgument(
        `readMask is required. Please specify one or more valid paths. Valid paths are documented at ${DOCS}/${docsPath}.`,
      );
    }
    const mask = parseMask(readMask, allowed);
    if ('bad' in mask) {
      return invalidArgument(
        `Invalid readMask path: "${mask.bad}". Valid paths are documented at ${DOCS}/${docsPath}.`,
      );
    }
    const requested = integerParam(c, 'pageSize', 10);
    if (requested instanceof Response) return requested;
    // Google reads 0 as the default of 10 and caps anything above 30.
    const size = Math.min(requested || 10, 30);
    const book = addressBookOf(principal.user);
    const entries = collection === 'people' ? book.contacts : book.otherContacts;
    const results = entries
      .filter((contact) => matchesQuery(contact, collection, query))
      .slice(0, size)
      .map((contact) => ({ person: renderPerson(contact, collection, mask.fields) }));
    // An empty query is the documented cache warm-up: it answers no results.
    return c.json(results.length > 0 ? { results } : {});
  }

  app.get('/v1/:call{people:searchContacts|otherContacts:search}', (c) =>
    c.req.param('call') === 'people:searchContacts'
      ? search(
          c,
          'people',
          PEOPLE_SCOPES.contactsRead,
          'google.people.v1.PeopleService.SearchContacts',
          PERSON_FIELDS,
          'people/searchContacts',
        )
      : search(
          c,
          'otherContacts',
          PEOPLE_SCOPES.otherContactsRead,
          'google.people.v1.OtherContacts.SearchOtherContacts',
          OTHER_CONTACT_FIELDS,
          'otherContacts/search',
        ),
  );

  return app;
}
