import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from './support/clock.js';
import { ENGINES } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';

describe.each(ENGINES)('token refresh on %s', (engine) => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ engine, clock, sandbox: { rotateRefreshTokens: true } });
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterAll(() => stack?.close());

  const refreshCalls = () => stack.sandbox.state.readCounters().tokenCalls.refresh_token ?? 0;

  it('refreshes an expired token once under 20 concurrent callers', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'alice', 'john.doe@example.com');
    const before = await stack.services.vault.getAccessToken(accountId);
    clock.advance(2 * 3600_000);
    const calls = refreshCalls();
    const grants = await Promise.all(Array.from({ length: 20 }, () => stack.services.vault.getAccessToken(accountId)));
    expect(refreshCalls() - calls).toBe(1);
    expect(new Set(grants.map((g) => g.accessToken)).size).toBe(1);
    expect(grants[0]?.accessToken).not.toBe(before.accessToken);
    expect(grants[0]?.version).toBe(before.version + 1);

    // The refreshed token works at the provider, through a tool.
    const result = await stack.api<{ data: { messages: unknown[] } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connector: 'MY_GMAIL',
      identifier: 'alice',
      params: { max_results: 1 },
    });
    expect(result.status).toBe(200);
    expect(result.body.data.messages).toHaveLength(1);
  });

  it('saves a rotated refresh token with the new access token, so the next refresh works', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'bob', 'jane.doe@example.com');
    const row = () =>
      stack.db.db.selectFrom('connected_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    const firstRefreshToken = stack.services.vault.openTokens(await row())?.refresh_token;
    clock.advance(2 * 3600_000);
    const calls = refreshCalls();
    const refreshed = await stack.services.vault.getAccessToken(accountId);
    const secondRefreshToken = stack.services.vault.openTokens(await row())?.refresh_token;
    expect(secondRefreshToken).toBeTruthy();
    expect(secondRefreshToken).not.toBe(firstRefreshToken);
    clock.advance(2 * 3600_000);
    const grant = await stack.services.vault.getAccessToken(accountId);
    expect((await row()).status).toBe('ACTIVE');
    // The second refresh, made with the rotated refresh token, issued a new access token.
    expect(refreshCalls() - calls).toBe(2);
    expect(grant.accessToken).not.toBe(refreshed.accessToken);
    expect(grant.version).toBe(refreshed.version + 1);
    expect(stack.services.vault.openTokens(await row())?.access_token).toBe(grant.accessToken);
  });

  it('refreshes once after the provider answers 401, then retries the call', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'carol', 'john.doe@example.com');
    const user = stack.sandbox.state.findUser('john.doe@example.com');
    if (!user) throw new Error('seeded user missing');
    stack.sandbox.state.oauth.expireAccessTokensOf(user);
    const calls = refreshCalls();
    const result = await stack.api<{ data: { messages: unknown[] } }>('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connected_account_id: accountId,
      params: { max_results: 2 },
    });
    expect(result.status).toBe(200);
    expect(refreshCalls() - calls).toBe(1);
  });

  it('moves the account to EXPIRED when the provider refuses the refresh, keeping its record', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'dave', 'jane.doe@example.com');
    const user = stack.sandbox.state.findUser('jane.doe@example.com');
    if (!user) throw new Error('seeded user missing');
    stack.sandbox.state.oauth.revokeGrantOf(user);
    clock.advance(2 * 3600_000);
    const result = await stack.api<{
      error: { code: string; message: string; details: { authentication_link: string } };
    }>('POST', '/api/v1/execute_tool', { tool_name: 'gmail_fetch_mails', connected_account_id: accountId, params: {} });
    expect(result.status).toBe(409);
    expect(result.body.error.code).toBe('account_expired');
    expect(result.body.error.details.authentication_link).toMatch(/\/connect\//);
    const row = await stack.db.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('EXPIRED');
    expect(row.status_reason).toBe('invalid_grant');
    expect(row.tokens_enc).not.toBeNull();
    const refusedToken = stack.services.vault.openTokens(row)?.access_token;

    // A new consent through the link brings it back.
    const page = await stack.consent(result.body.error.details.authentication_link, { email: 'jane.doe@example.com' });
    expect(page.status).toBe(200);
    const again = await stack.services.vault.getAccessToken(accountId);
    expect(refusedToken).toBeTruthy();
    expect(again.accessToken).not.toBe(refusedToken);
    const works = await stack.api('POST', '/api/v1/execute_tool', {
      tool_name: 'gmail_fetch_mails',
      connected_account_id: accountId,
      params: { max_results: 1 },
    });
    expect(works.status).toBe(200);
  });

  /** The provider's expiry of the account's stored access token, in ms. */
  const expiryOf = async (accountId: string) => {
    const row = await stack.db.db
      .selectFrom('connected_accounts')
      .select('token_expires_at')
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    if (!row.token_expires_at) throw new Error('the sandbox gave no expiry');
    return Date.parse(row.token_expires_at);
  };

  it('refreshes a token 30 s before it expires, but not 90 s before', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'erin', 'john.doe@example.com');
    const before = await stack.services.vault.getAccessToken(accountId);
    const expiresAt = await expiryOf(accountId);
    clock.advance(expiresAt - 90_000 - clock.now());
    const calls = refreshCalls();
    expect((await stack.services.vault.getAccessToken(accountId)).accessToken).toBe(before.accessToken);
    expect(refreshCalls() - calls).toBe(0);
    clock.advance(expiresAt - 30_000 - clock.now());
    const refreshed = await stack.services.vault.getAccessToken(accountId);
    expect(refreshCalls() - calls).toBe(1);
    expect(refreshed.accessToken).not.toBe(before.accessToken);
  });

  it('does not serve a cached grant once it is about to expire to a caller that holds an ACTIVE row', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'frank', 'jane.doe@example.com');
    const expiresAt = await expiryOf(accountId);
    // Cached 90 s before expiry, then asked for 45 s later: younger than the caches' 60 s
    // backstop, so only the grant's own expiry can send the caller to a refresh.
    clock.advance(expiresAt - 90_000 - clock.now());
    const cached = await stack.services.vault.getAccessToken(accountId);
    const known = { status: 'ACTIVE' as const, token_version: cached.version };
    expect(await stack.services.vault.getAccessToken(accountId, { known })).toBe(cached);
    clock.advance(45_000);
    const calls = refreshCalls();
    const grant = await stack.services.vault.getAccessToken(accountId, { known });
    expect(refreshCalls() - calls).toBe(1);
    expect(grant.accessToken).not.toBe(cached.accessToken);
  });
});

/**
 * On Postgres the row lock alone keeps the provider to one refresh call, so the provider's
 * counter cannot tell whether this process also shares one refresh among its callers. A
 * slow provider lets every caller arrive while the refresh is in flight: they must all wait
 * on it and get its very grant, not queue on the row lock one transaction each.
 */
describe.each(ENGINES)('in-process single flight on %s', (engine) => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  let refreshRequests = 0;
  beforeAll(async () => {
    const slowRefresh: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.endsWith('/token') && (await request.clone().text()).includes('grant_type=refresh_token')) {
        refreshRequests++;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      return stack.fetch(request);
    };
    stack = await startStack({ engine, clock, fetch: slowRefresh });
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterAll(() => stack?.close());

  it('hands 20 concurrent callers in one process the grant of one refresh', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'alice', 'john.doe@example.com');
    const before = await stack.services.vault.getAccessToken(accountId);
    clock.advance(2 * 3600_000);
    const grants = await Promise.all(Array.from({ length: 20 }, () => stack.services.vault.getAccessToken(accountId)));
    expect(refreshRequests).toBe(1);
    expect(new Set(grants).size).toBe(1);
    expect(grants[0]?.accessToken).not.toBe(before.accessToken);
  });
});
