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
    await stack.services.vault.getAccessToken(accountId);
    const secondRefreshToken = stack.services.vault.openTokens(await row())?.refresh_token;
    expect(secondRefreshToken).toBeTruthy();
    expect(secondRefreshToken).not.toBe(firstRefreshToken);
    clock.advance(2 * 3600_000);
    const grant = await stack.services.vault.getAccessToken(accountId);
    expect((await row()).status).toBe('ACTIVE');
    expect(grant.accessToken).toBeTruthy();
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

    // A new consent through the link brings it back.
    const page = await stack.consent(result.body.error.details.authentication_link, { email: 'jane.doe@example.com' });
    expect(page.status).toBe(200);
    const again = await stack.services.vault.getAccessToken(accountId);
    expect(again.accessToken).toBeTruthy();
  });
});
