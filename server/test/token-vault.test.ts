import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_MAX_AGE_MS, TokenVault } from '../src/connections/token-vault.js';
import { AppError } from '../src/errors.js';
import { manualClock } from './support/clock.js';
import { ENGINES } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';
import { StatementHook } from './support/statement-hook.js';

/**
 * The vault's own rules, one at a time (issue 18's mutation testing of token-vault.ts): which
 * cached grant may be served, when a token counts as expiring, what a refresh may do to an
 * account that is not ACTIVE, and what two replicas refreshing one account end with.
 */
describe.each(ENGINES)('the token vault on %s', (engine) => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  /** A second replica on the same database, whose provider calls reach the same sandbox. */
  let replica: Stack;
  let refreshRequests = 0;
  /** `short`: the provider issues tokens that live 90 s. */
  let refreshes: 'pass' | 'unavailable' | 'slow' | 'short' = 'pass';

  beforeAll(async () => {
    const provider: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.endsWith('/token') && (await request.clone().text()).includes('grant_type=refresh_token')) {
        refreshRequests++;
        if (refreshes === 'unavailable') return Response.json({ error: 'server_error' }, { status: 503 });
        if (refreshes === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
        if (refreshes === 'short') {
          const issued = (await (await stack.fetch(request)).json()) as Record<string, unknown>;
          return Response.json({ ...issued, expires_in: 90 });
        }
      }
      return stack.fetch(request);
    };
    stack = await startStack({ engine, clock, fetch: provider });
    replica = await startStack({ engine, clock, fetch: provider, database: stack.db });
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterAll(async () => {
    await replica?.close();
    await stack?.close();
  });

  const vault = () => stack.services.vault;
  const row = (accountId: string) =>
    stack.db.db.selectFrom('connected_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
  const setRow = (accountId: string, values: Record<string, unknown>) =>
    stack.db.db.updateTable('connected_accounts').set(values).where('id', '=', accountId).execute();
  const expiryOf = async (accountId: string) => Date.parse((await row(accountId)).token_expires_at ?? '');
  const refreshCount = async (outcome: string) => {
    const metric = await stack.services.metrics.registry.getSingleMetric('switchboard_token_refreshes_total')?.get();
    return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  };
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };
  let people = 0;
  const connect = () => stack.connectAccount('MY_GMAIL', `person-${++people}`, 'john.doe@example.com');

  it('names the connection and the user in the errors of an account that cannot be used', async () => {
    const { statusError } = await import('../src/connections/token-vault.js');
    const who = { identifier: 'alice' };
    expect(statusError({ ...who, status: 'EXPIRED' }, 'MY_GMAIL')).toMatchObject({
      code: 'account_expired',
      message: 'the connected account MY_GMAIL for alice has expired and must be re-authorized',
    });
    expect(statusError({ ...who, status: 'DISCONNECTED' }, 'MY_GMAIL')).toMatchObject({
      code: 'account_disconnected',
      message: 'the connected account MY_GMAIL for alice was disconnected',
    });
    expect(statusError({ ...who, status: 'PENDING_AUTH' }, 'MY_GMAIL')).toMatchObject({
      code: 'account_not_connected',
      message: 'the connected account MY_GMAIL for alice is not authorized yet',
    });
  });

  it('serves the grant a refresh just issued from its cache, until the new token nears its expiry', async () => {
    const accountId = await connect();
    const refreshed = await vault().forceRefresh(accountId);
    const known = { status: 'ACTIVE' as const, token_version: refreshed.version };
    const calls = refreshRequests;
    // The very object the refresh remembered: no read, no decryption.
    expect(await vault().getAccessToken(accountId, { known })).toBe(refreshed);
    clock.advance((await expiryOf(accountId)) - 30_000 - clock.now());
    const next = await vault().getAccessToken(accountId, { known });
    expect(refreshRequests - calls).toBe(1);
    expect(next.accessToken).not.toBe(refreshed.accessToken);
  });

  it('serves a returning user the grant it decrypted before, for a row read again at the same version', async () => {
    const accountId = await connect();
    const first = await vault().getAccessToken(accountId);
    // Five minutes on, every 60 s cache has let the account go: the call reads the row again.
    clock.advance(5 * 60_000);
    const again = await row(accountId);
    expect(await vault().getAccessToken(accountId, { known: again, row: again })).toBe(first);
    // A row at a newer version is not served the old grant.
    const newer = vault().sealTokens(accountId, {
      accessToken: 'stored-after-the-first-call',
      tokenType: 'Bearer',
      expiresAt: clock.now() + 3600_000,
    });
    await setRow(accountId, { ...newer, token_version: first.version + 1 });
    const moved = await row(accountId);
    const next = await vault().getAccessToken(accountId, { known: moved, row: moved });
    expect(next.accessToken).toBe('stored-after-the-first-call');
    // Past the grant's own age the token is decrypted anew, though the row did not change.
    clock.advance(GRANT_MAX_AGE_MS);
    const later = await vault().getAccessToken(accountId, { known: moved, row: moved });
    expect(later).not.toBe(next);
    expect(later.accessToken).toBe('stored-after-the-first-call');
  });

  it('does not serve a just-refreshed grant from its cache once the new token is about to expire', async () => {
    const accountId = await connect();
    refreshes = 'short';
    let refreshed: Awaited<ReturnType<TokenVault['forceRefresh']>>;
    try {
      refreshed = await vault().forceRefresh(accountId);
    } finally {
      refreshes = 'pass';
    }
    const known = { status: 'ACTIVE' as const, token_version: refreshed.version };
    expect(await vault().getAccessToken(accountId, { known })).toBe(refreshed);
    const lookups = await stack.services.metrics.registry.getSingleMetric('switchboard_cache_lookups_total')?.get();
    expect(lookups?.values.some((v) => v.labels.cache === 'token_grants' && v.labels.result === 'hit')).toBe(true);
    // 45 s left: within the 60 s skew, while the cache entry is younger than the caches' 60 s backstop.
    clock.advance(45_000);
    const calls = refreshRequests;
    const next = await vault().getAccessToken(accountId, { known });
    expect(refreshRequests - calls).toBe(1);
    expect(next.accessToken).not.toBe(refreshed.accessToken);
  });

  it('refreshes a token exactly 60 s before its expiry', async () => {
    const accountId = await connect();
    const before = await vault().getAccessToken(accountId);
    clock.advance((await expiryOf(accountId)) - 60_000 - clock.now());
    const calls = refreshRequests;
    const grant = await vault().getAccessToken(accountId);
    expect(refreshRequests - calls).toBe(1);
    expect(grant.version).toBe(before.version + 1);
  });

  it('never refreshes a token the provider gave no expiry', async () => {
    const accountId = await connect();
    await setRow(accountId, { token_expires_at: null });
    const before = await vault().getAccessToken(accountId);
    clock.advance(48 * 3600_000);
    const calls = refreshRequests;
    const grant = await vault().getAccessToken(accountId);
    expect(refreshRequests - calls).toBe(0);
    expect(grant.accessToken).toBe(before.accessToken);
  });

  it('does not serve a cached grant to a caller whose row is not ACTIVE', async () => {
    const accountId = await connect();
    const cached = await vault().getAccessToken(accountId);
    // Expired by another replica; this process's caches have not heard of it yet.
    await setRow(accountId, { status: 'EXPIRED' });
    const error = await failure(
      vault().getAccessToken(accountId, { known: { status: 'EXPIRED', token_version: cached.version } }),
    );
    expect(error.code).toBe('account_expired');
    expect(error.message).toMatch(/^the connected account MY_GMAIL for person-\d+ has expired/);
  });

  it('does not serve a cached grant older than the row the caller holds', async () => {
    const accountId = await connect();
    const cached = await vault().getAccessToken(accountId);
    // Another replica refreshed: a new token at a newer version.
    const newer = vault().sealTokens(accountId, {
      accessToken: 'token-of-the-other-replica',
      tokenType: 'Bearer',
      expiresAt: clock.now() + 3600_000,
    });
    await setRow(accountId, { ...newer, token_version: cached.version + 1 });
    const grant = await vault().getAccessToken(accountId, {
      known: { status: 'ACTIVE', token_version: cached.version + 1 },
    });
    expect(grant.accessToken).toBe('token-of-the-other-replica');
  });

  it('forgets a cached grant when told to', async () => {
    const accountId = await connect();
    const cached = await vault().getAccessToken(accountId);
    const replaced = vault().sealTokens(accountId, {
      accessToken: 'replaced-at-the-same-version',
      tokenType: 'Bearer',
      expiresAt: clock.now() + 3600_000,
    });
    await setRow(accountId, replaced);
    const known = { status: 'ACTIVE' as const, token_version: cached.version };
    expect((await vault().getAccessToken(accountId, { known })).accessToken).toBe(cached.accessToken);
    vault().forget(accountId);
    expect((await vault().getAccessToken(accountId, { known })).accessToken).toBe('replaced-at-the-same-version');
  });

  it('answers not_found for an account that does not exist', async () => {
    expect(await failure(vault().getAccessToken('ca_missing'))).toMatchObject({
      code: 'not_found',
      message: 'connected account ca_missing not found',
    });
    expect((await failure(vault().forceRefresh('ca_missing'))).code).toBe('not_found');
  });

  it('opens no tokens from a row without ciphertext or key id', () => {
    const sealed = vault().sealTokens('ca_x', { accessToken: 'a', tokenType: 'Bearer' });
    expect(vault().openTokens({ id: 'ca_x', tokens_enc: null, key_id: sealed.key_id })).toBeUndefined();
    expect(vault().openTokens({ id: 'ca_x', tokens_enc: sealed.tokens_enc, key_id: null })).toBeUndefined();
    expect(vault().openTokens({ id: 'ca_x', ...sealed })?.access_token).toBe('a');
  });

  it('treats an ACTIVE row without tokens as not connected, whether read or refreshed', async () => {
    const accountId = await connect();
    await setRow(accountId, { tokens_enc: null, key_id: null });
    const message = expect.stringMatching(/^the connected account MY_GMAIL for person-\d+ is not authorized yet$/);
    expect(await failure(vault().getAccessToken(accountId))).toMatchObject({ code: 'account_not_connected', message });
    expect(await failure(vault().forceRefresh(accountId))).toMatchObject({ code: 'account_not_connected', message });
  });

  it('refuses to refresh a disconnected account, and asks the provider nothing', async () => {
    const accountId = await connect();
    await setRow(accountId, { status: 'DISCONNECTED' });
    const calls = refreshRequests;
    expect((await failure(vault().forceRefresh(accountId))).code).toBe('account_disconnected');
    expect(refreshRequests - calls).toBe(0);
  });

  it('expires an account that has no refresh token instead of calling the provider', async () => {
    const accountId = await connect();
    await setRow(
      accountId,
      vault().sealTokens(accountId, { accessToken: 'no-refresh', tokenType: 'Bearer', expiresAt: clock.now() }),
    );
    const calls = refreshRequests;
    expect((await failure(vault().getAccessToken(accountId))).code).toBe('account_expired');
    expect(refreshRequests - calls).toBe(0);
    expect(await row(accountId)).toMatchObject({ status: 'EXPIRED', status_reason: 'no_refresh_token' });
  });

  it('keeps an account ACTIVE when the provider fails a refresh without refusing it, and counts the failure', async () => {
    const accountId = await connect();
    const failed = await refreshCount('failed');
    refreshes = 'unavailable';
    try {
      const error = await failure(vault().forceRefresh(accountId));
      expect(error.code).toBe('provider_unavailable');
    } finally {
      refreshes = 'pass';
    }
    expect((await row(accountId)).status).toBe('ACTIVE');
    expect((await refreshCount('failed')) - failed).toBe(1);
    const succeeded = await refreshCount('success');
    await vault().forceRefresh(accountId);
    expect((await refreshCount('success')) - succeeded).toBe(1);
  });

  it('on a refused refresh: EXPIRED with the reason in the history, counted, and gone from every replica', async () => {
    const accountId = await connect();
    const here = await stack.services.accounts.findForCall({ id: accountId });
    const there = await replica.services.accounts.findForCall({ id: accountId });
    expect([here?.account.status, there?.account.status]).toEqual(['ACTIVE', 'ACTIVE']);
    const refused = await refreshCount('refused');
    const user = stack.sandbox.state.findUser('john.doe@example.com');
    if (!user) throw new Error('seeded user missing');
    stack.sandbox.state.oauth.revokeGrantOf(user);
    expect((await failure(vault().forceRefresh(accountId))).code).toBe('account_expired');
    expect((await refreshCount('refused')) - refused).toBe(1);
    const history = await stack.services.accountEvents.list({
      accountId,
      type: 'account.refresh_failed',
      limit: 10,
      offset: 0,
    });
    expect(history.events.map((e) => e.detail)).toEqual([{ reason: 'invalid_grant' }]);
    // This process at once (its clock has not moved), the other replica at its next poll.
    expect((await stack.services.accounts.findForCall({ id: accountId }))?.account.status).toBe('EXPIRED');
    clock.advance(1_000);
    expect((await replica.services.accounts.findForCall({ id: accountId }))?.account.status).toBe('EXPIRED');
  });

  it('two replicas refreshing one account at once end with the one token that was stored', async () => {
    const accountId = await connect();
    clock.advance(2 * 3600_000);
    const calls = refreshRequests;
    refreshes = 'slow';
    let grants: Awaited<ReturnType<TokenVault['getAccessToken']>>[];
    try {
      grants = await Promise.all([vault().getAccessToken(accountId), replica.services.vault.getAccessToken(accountId)]);
    } finally {
      refreshes = 'pass';
    }
    const stored = vault().openTokens(await row(accountId))?.access_token;
    expect(grants.map((g) => g.accessToken)).toEqual([stored, stored]);
    expect(new Set(grants.map((g) => g.version)).size).toBe(1);
    // Postgres: the second replica waits on the row lock and uses the token the first stored.
    if (engine === 'postgres') expect(refreshRequests - calls).toBe(1);
  });

  it('counts refreshes only when metrics are given', async () => {
    const { services } = stack;
    const bare = new TokenVault({
      db: stack.db.db,
      engine,
      encryptor: services.encryptor,
      clock,
      oauth: services.oauth,
      logger: services.logger,
      changes: services.changes,
      connections: services.connections,
      events: services.accountEvents,
    });
    const accountId = await connect();
    const before = await vault().getAccessToken(accountId);
    expect((await bare.forceRefresh(accountId)).version).toBe(before.version + 1);
    refreshes = 'unavailable';
    try {
      expect((await failure(bare.forceRefresh(accountId))).code).toBe('provider_unavailable');
    } finally {
      refreshes = 'pass';
    }
  });
});

/**
 * On SQLite there is no row lock: a refresh reads the row, then checks its version again
 * before calling the provider. A plugin on the vault's database runs another process's
 * write (its own connection to the file) right after the refresh read the account's
 * connection, i.e. between the two reads.
 */
describe('a refresh on SQLite whose row changed after it was read', () => {
  let stack: Stack;
  let refreshRequests = 0;
  /** Runs the write of "another replica" once, after the vault's next read of `connections`. */
  let hook: StatementHook;
  let racing: TokenVault;
  let otherProcess: SQLite.Database;

  beforeAll(async () => {
    const provider: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.endsWith('/token') && (await request.clone().text()).includes('grant_type=refresh_token')) {
        refreshRequests++;
      }
      return stack.fetch(request);
    };
    stack = await startStack({ engine: 'sqlite', fetch: provider });
    await stack.createConnection('MY_GMAIL', 'gmail');
    hook = new StatementHook(
      (node) => node.kind === 'SelectQueryNode' && JSON.stringify(node.from).includes('"name":"connections"'),
    );
    otherProcess = new SQLite(join(stack.db.dataDir, 'switchboard.db'));
    const { services } = stack;
    racing = new TokenVault({
      db: stack.db.db.withPlugin(hook.plugin),
      engine: 'sqlite',
      encryptor: services.encryptor,
      clock: services.clock,
      oauth: services.oauth,
      logger: services.logger,
      changes: services.changes,
      connections: services.connections,
      events: services.accountEvents,
    });
  });
  afterAll(async () => {
    otherProcess?.close();
    await stack?.close();
  });

  let people = 0;
  const connect = () => stack.connectAccount('MY_GMAIL', `racer-${++people}`, 'john.doe@example.com');
  const bump = (accountId: string, values: Record<string, string | null>) => () => {
    const columns = Object.keys(values).map((column) => `${column} = @${column}`);
    otherProcess
      .prepare(`UPDATE connected_accounts SET ${columns.join(', ')}, token_version = token_version + 1 WHERE id = @id`)
      .run({ ...values, id: accountId });
  };

  it('uses the token another replica stored meanwhile, without calling the provider', async () => {
    const accountId = await connect();
    const before = await racing.getAccessToken(accountId);
    hook.next = bump(
      accountId,
      stack.services.vault.sealTokens(accountId, {
        accessToken: 'stored-by-the-other-replica',
        tokenType: 'Bearer',
        expiresAt: Date.now() + 3600_000,
      }),
    );
    const calls = refreshRequests;
    const grant = await racing.forceRefresh(accountId);
    expect(hook.next).toBeUndefined();
    expect(refreshRequests - calls).toBe(0);
    expect(grant).toMatchObject({ accessToken: 'stored-by-the-other-replica', version: before.version + 1 });
  });

  it('refuses, rather than refreshes, an account another replica disconnected meanwhile', async () => {
    const accountId = await connect();
    hook.next = bump(accountId, { status: 'DISCONNECTED' });
    const calls = refreshRequests;
    const error = await racing.forceRefresh(accountId).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hook.next).toBeUndefined();
    expect(error).toMatchObject({ code: 'account_disconnected' });
    expect(refreshRequests - calls).toBe(0);
  });
});
