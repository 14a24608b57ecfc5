import { describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/support/clock.js';
import { createSandbox } from '../app.js';

const A = 'https://www.googleapis.com/auth/';
const JOHN = 'john.doe@example.com';

const { app, state } = createSandbox({ clock: manualClock() });

interface Person {
  resourceName: string;
  etag: string;
  names?: { displayName: string; givenName: string; familyName: string }[];
  emailAddresses?: { value: string; type: string }[];
  phoneNumbers?: { value: string; canonicalForm: string }[];
  organizations?: { name: string }[];
  metadata?: { sources: { type: string; updateTime: string }[] };
}

async function call(path: string, scopes: string[] = [`${A}contacts.readonly`], email = JOHN) {
  const token = state.oauth.issueTokenDirectly({ email, scopes }).access_token;
  const response = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const connections = (query: string, scopes?: string[], email?: string) =>
  call(`/v1/people/me/connections?${query}`, scopes, email);

describe('People API people.connections.list', () => {
  it("lists the user's contacts, the other sandbox users among them, with only the fields asked for", async () => {
    const { status, body } = await connections('personFields=names,emailAddresses');
    expect(status).toBe(200);
    const people = body.connections as Person[];
    expect(body.totalPeople).toBe(people.length);
    expect(body.totalItems).toBe(people.length);
    const emails = people.flatMap((person) => person.emailAddresses?.map((email) => email.value) ?? []);
    expect(emails).toEqual(expect.arrayContaining(['jane.doe@example.com', 'sarah.lee@globex.example']));
    expect(emails).not.toContain(JOHN);
    for (const person of people) {
      expect(person.resourceName).toMatch(/^people\/c\d{19}$/);
      expect(person.etag).toBeTruthy();
      expect(person.phoneNumbers).toBeUndefined();
      expect(person.names?.[0]?.displayName).toBeTruthy();
    }
  });

  it('keeps resource names stable and separate per user', async () => {
    const first = (await connections('personFields=emailAddresses')).body.connections as Person[];
    const again = (await connections('personFields=emailAddresses')).body.connections as Person[];
    expect(again.map((p) => p.resourceName)).toEqual(first.map((p) => p.resourceName));
    const jane = (await connections('personFields=emailAddresses', undefined, 'jane.doe@example.com')).body
      .connections as Person[];
    const janeEmails = jane.flatMap((person) => person.emailAddresses?.map((email) => email.value) ?? []);
    expect(janeEmails).toContain(JOHN);
    expect(jane.map((p) => p.resourceName)).not.toEqual(first.map((p) => p.resourceName));
  });

  it('pages with pageSize and nextPageToken, sorted by last modification', async () => {
    const all: Person[] = [];
    let token: unknown;
    let total: unknown;
    do {
      const page = await connections(
        `personFields=metadata&pageSize=3&sortOrder=LAST_MODIFIED_DESCENDING${token ? `&pageToken=${token}` : ''}`,
      );
      expect((page.body.connections as Person[]).length).toBeLessThanOrEqual(3);
      all.push(...(page.body.connections as Person[]));
      token = page.body.nextPageToken;
      total = page.body.totalPeople;
    } while (token);
    expect(all).toHaveLength(Number(total));
    expect(all.length).toBeGreaterThan(3);
    expect(new Set(all.map((p) => p.resourceName)).size).toBe(all.length);
    const times = all.map((p) => Date.parse(p.metadata?.sources[0]?.updateTime ?? ''));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("answers Google's 400s for a missing or unknown personFields path and a bad pageSize", async () => {
    const missing = await connections('pageSize=10');
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: expect.stringContaining('personFields mask is required'),
      },
    });
    const unknown = await connections('personFields=names,shoeSize');
    expect(unknown.body).toMatchObject({ error: { message: expect.stringContaining('"shoeSize"') } });
    expect((await connections('personFields=names&pageSize=1001')).status).toBe(400);
  });

  it('needs contacts or contacts.readonly, not contacts.other.readonly', async () => {
    expect((await connections('personFields=names', [`${A}contacts`])).status).toBe(200);
    const denied = await connections('personFields=names', [`${A}contacts.other.readonly`]);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({
      error: {
        status: 'PERMISSION_DENIED',
        details: [{ reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', metadata: { service: 'people.googleapis.com' } }],
      },
    });
  });
});

describe('People API people.searchContacts and otherContacts.search', () => {
  const search = (query: string, scopes?: string[]) => call(`/v1/people:searchContacts?${query}`, scopes);

  it('matches prefix phrases of names, emails, organizations and phone numbers', async () => {
    const names = async (q: string) =>
      (
        (await search(`query=${encodeURIComponent(q)}&readMask=names`)).body.results as { person: Person }[] | undefined
      )?.map((r) => r.person.names?.[0]?.displayName);
    expect(await names('sar')).toEqual(['Sarah Lee']);
    expect(await names('sarah l')).toEqual(['Sarah Lee']);
    expect(await names('arah')).toBeUndefined();
    expect(await names('globex')).toEqual(['Sarah Lee']);
    expect(await names('acme-corp.example')).toEqual(['Priya Natarajan']);
    expect(await names('+1 415')).toEqual(expect.arrayContaining(['Sarah Lee', 'Priya Natarajan']));
    expect(await names('doe')).toEqual(['Jane Doe']);
  });

  it('answers {} to the empty warm-up query and caps pageSize at 30', async () => {
    expect((await search('query=&readMask=names')).body).toEqual({});
    const many = await search('query=e&readMask=names&pageSize=500');
    expect(many.status).toBe(200);
    const one = await search('query=e&readMask=names&pageSize=1');
    expect(one.body.results).toHaveLength(1);
  });

  it('requires readMask', async () => {
    const { status, body } = await search('query=sarah');
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { message: expect.stringContaining('readMask is required') } });
  });

  it('searches other contacts only with contacts.other.readonly and only their allowed fields', async () => {
    const other = `${A}contacts.other.readonly`;
    const found = await call('/v1/otherContacts:search?query=billing&readMask=names,emailAddresses', [other]);
    expect(found.body).toMatchObject({
      results: [
        {
          person: {
            resourceName: expect.stringMatching(/^otherContacts\/c\d+$/),
            emailAddresses: [{ value: 'billing@acme-corp.example' }],
          },
        },
      ],
    });
    expect((await call('/v1/otherContacts:search?query=billing&readMask=names')).status).toBe(403);
    expect((await call('/v1/otherContacts:search?query=billing&readMask=organizations', [other])).status).toBe(400);
    // Saved contacts are not "other contacts", and the other way round.
    expect((await call('/v1/otherContacts:search?query=sarah&readMask=names', [other])).body).toEqual({});
    expect((await search('query=billing&readMask=names')).body).toEqual({});
  });
});
