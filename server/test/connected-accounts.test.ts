import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

type Account = { id: string; identifier: string; connector: string; status: string; provider: string };

describe('connected accounts API', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
  });
  afterAll(() => stack?.close());

  it('creates an ACTIVE account from tokens a backend brings, and refuses a duplicate', async () => {
    const token = stack.sandbox.state.oauth.issueTokenDirectly({
      email: 'john.doe@example.com',
      scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
      offline: true,
    });
    const created = await stack.api<{ connected_account: Account & { authorization_details: unknown } }>(
      'POST',
      '/api/v1/connected_accounts',
      {
        connector: 'MY_GMAIL',
        identifier: 'imported',
        connected_account: {
          authorization_details: {
            oauth_token: {
              access_token: token.access_token,
              refresh_token: token.refresh_token,
              scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
            },
          },
        },
      },
    );
    expect(created.status).toBe(201);
    expect(created.body.connected_account).toMatchObject({
      identifier: 'imported',
      connector: 'MY_GMAIL',
      provider: 'gmail',
      status: 'ACTIVE',
    });
    expect(JSON.stringify(created.body)).not.toContain(token.access_token);
    const duplicate = await stack.api('POST', '/api/v1/connected_accounts', {
      connector: 'MY_GMAIL',
      identifier: 'imported',
    });
    expect(duplicate.status).toBe(409);
  });

  it('lists with filters and pagination, and searches', async () => {
    for (let i = 0; i < 5; i++) {
      await stack.api('POST', '/api/v1/connected_accounts', { connector: 'MY_CALENDAR', identifier: `cal-user-${i}` });
    }
    const page1 = await stack.api<{ connected_accounts: Account[]; next_page_token: string; total_size: number }>(
      'GET',
      '/api/v1/connected_accounts?connector=MY_CALENDAR&page_size=2',
    );
    expect(page1.body.total_size).toBe(5);
    expect(page1.body.connected_accounts).toHaveLength(2);
    expect(page1.body.connected_accounts.every((a) => a.status === 'PENDING_AUTH')).toBe(true);
    const page3 = await stack.api<{ connected_accounts: Account[]; next_page_token: string }>(
      'GET',
      '/api/v1/connected_accounts?connector=MY_CALENDAR&page_size=2&page_token=' +
        encodeURIComponent(
          (
            await stack.api<{ next_page_token: string }>(
              'GET',
              `/api/v1/connected_accounts?connector=MY_CALENDAR&page_size=2&page_token=${page1.body.next_page_token}`,
            )
          ).body.next_page_token,
        ),
    );
    expect(page3.body.connected_accounts).toHaveLength(1);
    expect(page3.body.next_page_token).toBe('');

    const byProvider = await stack.api<{ total_size: number }>('GET', '/api/v1/connected_accounts?provider=gmail');
    expect(byProvider.body.total_size).toBe(1);
    const byNames = await stack.api<{ total_size: number }>(
      'GET',
      '/api/v1/connected_accounts?connection_names=MY_GMAIL&connection_names=MY_CALENDAR',
    );
    expect(byNames.body.total_size).toBe(6);
    const found = await stack.api<{ connected_accounts: Account[] }>(
      'GET',
      '/api/v1/connected_accounts:search?query=user-3',
    );
    expect(found.body.connected_accounts.map((a) => a.identifier)).toEqual(['cal-user-3']);
    const tooShort = await stack.api('GET', '/api/v1/connected_accounts:search?query=ab');
    expect(tooShort.status).toBe(400);
    const badToken = await stack.api('GET', '/api/v1/connected_accounts?page_token=garbage');
    expect(badToken.status).toBe(400);
  });

  it('gets an account by id or by connector and identifier, and 404s otherwise', async () => {
    const byRef = await stack.api<{ connected_account: Account }>(
      'GET',
      '/api/v1/connected_accounts/details?connector=MY_CALENDAR&identifier=cal-user-0',
    );
    const byId = await stack.api<{ connected_account: Account }>(
      'GET',
      `/api/v1/connected_accounts/${byRef.body.connected_account.id}`,
    );
    expect(byId.body.connected_account.identifier).toBe('cal-user-0');
    const missing = await stack.api<{ error: { code: string } }>(
      'GET',
      '/api/v1/connected_accounts/details?connector=MY_CALENDAR&identifier=nobody',
    );
    expect(missing.status).toBe(404);
    const noRef = await stack.api('GET', '/api/v1/connected_accounts/details');
    expect(noRef.status).toBe(400);
  });

  it('disconnects an account: grant revoked, tokens forgotten, tools answer with a new link', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'leaver', 'jane.doe@example.com');
    const revocations = stack.sandbox.state.readCounters().revocations;
    const result = await stack.api<{ connected_account: Account }>(
      'POST',
      `/api/v1/connected_accounts/${accountId}:disconnect`,
    );
    expect(result.body.connected_account.status).toBe('DISCONNECTED');
    expect(stack.sandbox.state.readCounters().revocations).toBe(revocations + 1);
    const row = await stack.db.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(row.tokens_enc).toBeNull();
    const call = await stack.api<{ error: { code: string; details: { authentication_link: string } } }>(
      'POST',
      '/api/v1/execute_tool',
      {
        tool_name: 'gmail_get_profile',
        connected_account_id: accountId,
        params: {},
      },
    );
    expect(call.body.error.code).toBe('account_disconnected');
    expect(call.body.error.details.authentication_link).toContain('/connect/');
    // Reconnecting through the link makes it ACTIVE again.
    expect(
      (await stack.consent(call.body.error.details.authentication_link, { email: 'jane.doe@example.com' })).status,
    ).toBe(200);
    const again = await stack.api<{ connected_account: Account }>('GET', `/api/v1/connected_accounts/${accountId}`);
    expect(again.body.connected_account.status).toBe('ACTIVE');
  });

  it('deletes an account, revoking its grant at the provider', async () => {
    await stack.connectAccount('MY_GMAIL', 'deleted-user', 'john.doe@example.com');
    const revocations = stack.sandbox.state.readCounters().revocations;
    const removed = await stack.api('POST', '/api/v1/connected_accounts:delete', {
      connector: 'MY_GMAIL',
      identifier: 'deleted-user',
    });
    expect(removed.status).toBe(200);
    expect(stack.sandbox.state.readCounters().revocations).toBe(revocations + 1);
    const gone = await stack.api(
      'GET',
      '/api/v1/connected_accounts/details?connector=MY_GMAIL&identifier=deleted-user',
    );
    expect(gone.status).toBe(404);
  });

  it('magic links create the pending account and can be opened more than once until they expire', async () => {
    const link = await stack.api<{ link: string; expiry: string }>('POST', '/api/v1/connected_accounts/magic_link', {
      connector: 'MY_CALENDAR',
      identifier: 'link-user',
    });
    expect(link.status).toBe(200);
    const first = await stack.fetch(link.body.link, { redirect: 'manual' });
    const second = await stack.fetch(link.body.link, { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(second.status).toBe(302);
    expect(new URL(first.headers.get('location') ?? '').searchParams.get('state')).not.toBe(
      new URL(second.headers.get('location') ?? '').searchParams.get('state'),
    );
    const unknown = await stack.fetch(`${stack.url}/connect/not-a-real-link`, { redirect: 'manual' });
    expect(unknown.status).toBe(404);
  });
});
