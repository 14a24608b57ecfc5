import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionRow } from '../src/connections/connections.js';
import type { Services } from '../src/context.js';
import { type DatabaseHandle, openDatabase } from '../src/db/database.js';
import { AppError } from '../src/errors.js';
import { createServices } from '../src/services.js';
import { manualClock } from './support/clock.js';
import { ENGINES } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';
import { StatementHook } from './support/statement-hook.js';

const VERIFY_URL = 'https://app.example/verify';

/**
 * A consent held for the app's user verification (user_verify_url), called through
 * ConnectFlow directly: what the account and the pending verification look like at every
 * statement of the hold, and what a re-consent of a working account holds back until the
 * app confirms the user.
 */
describe.each(ENGINES)('a consent held for user verification on %s', (engine) => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  let connection: ConnectionRow;
  /** The services of a process whose database runs `hook.next` once, right after its next statement on user_verifications. */
  let racing: Services;
  let hook: StatementHook;
  /** Another replica on its own connection to the same database. */
  let other: Services;
  let otherDb: DatabaseHandle;
  let people = 0;

  beforeAll(async () => {
    stack = await startStack({ engine, clock });
    await stack.createConnection('MY_GMAIL', 'gmail');
    const found = await stack.services.connections.findByName('MY_GMAIL');
    if (!found) throw new Error('connection missing');
    connection = found;
    hook = new StatementHook((node) => {
      const kind = node.kind;
      return (
        (kind === 'DeleteQueryNode' || kind === 'InsertQueryNode' || kind === 'UpdateQueryNode') &&
        JSON.stringify(node).includes('"name":"user_verifications"')
      );
    });
    const { services } = stack;
    racing = createServices({ ...services, db: services.db.withPlugin(hook.plugin), metrics: undefined });
    otherDb = await openDatabase(stack.db.reopen);
    other = createServices({ ...services, db: otherDb.db, metrics: undefined });
  });
  afterAll(async () => {
    for (const replica of [racing, other]) {
      await replica?.callLog.close();
      await replica?.rateLimiter.close();
    }
    await otherDb?.close();
    await stack?.close();
  });
  afterEach(() => {
    hook.next = undefined;
  });

  const fresh = () => `held-${++people}`;
  const tokenOf = (link: string) => new URL(link).pathname.split('/').pop() ?? '';
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };
  const accountRow = (id: string) =>
    stack.db.db.selectFrom('connected_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const verificationRow = (accountId: string) =>
    stack.db.db
      .selectFrom('user_verifications')
      .selectAll()
      .where('connected_account_id', '=', accountId)
      .executeTakeFirstOrThrow();
  /** Issues a link for `identifier`, consents as `email` in the sandbox, and completes the callback. */
  const consent = async (
    services: Services,
    identifier: string,
    options: { email?: string; userVerifyUrl?: string } = {},
  ) => {
    const flow = services.connectFlow;
    const issued = await flow.authLink(connection, identifier, { userVerifyUrl: options.userVerifyUrl });
    const { url } = await flow.startAuthorization(tokenOf(issued.link));
    const authorize = new URL(url);
    authorize.searchParams.set('login_hint', options.email ?? 'john.doe@example.com');
    authorize.searchParams.set('sandbox_auto_consent', 'allow');
    const back = await stack.fetch(authorize, { redirect: 'manual' });
    const done = await flow.completeAuthorization(new URL(back.headers.get('location') ?? '').searchParams);
    const next = done.verification ? new URL(done.verification.url) : undefined;
    return { account: done.account, authRequestId: next?.searchParams.get('auth_request_id') ?? '' };
  };
  const accessToken = async (accountId: string) => (await stack.services.vault.getAccessToken(accountId)).accessToken;
  const live = (token: string) => stack.sandbox.state.oauth.principalOf(token) !== undefined;

  it('is never pending without its verification: a read by another replica in the middle of the hold expires nothing', async () => {
    const identifier = fresh();
    let seen: string | undefined;
    hook.next = async () => {
      // Any read of accounts runs the expiry of unverified accounts first.
      const { rows } = await other.accounts.list({ identifier, limit: 10, offset: 0 });
      seen = rows[0]?.status;
    };
    const { account, authRequestId } = await consent(racing, identifier, { userVerifyUrl: VERIFY_URL });
    expect(hook.next).toBeUndefined();
    expect(seen).toBeDefined();
    expect(seen).not.toBe('EXPIRED');
    expect((await accountRow(account.id)).status).toBe('PENDING_VERIFICATION');
    await racing.connectFlow.verifyUser(authRequestId, identifier);
    expect((await accountRow(account.id)).status).toBe('ACTIVE');
  });

  it('does not apply a held grant of another provider account than the one a later consent bound', async () => {
    const identifier = fresh();
    const { account, authRequestId } = await consent(stack.services, identifier, {
      userVerifyUrl: VERIFY_URL,
      email: 'jane.doe@example.com',
    });
    // Meanwhile a link without verification connects the account as John.
    await consent(stack.services, identifier, { email: 'john.doe@example.com' });
    const bound = await accountRow(account.id);
    expect(bound).toMatchObject({ status: 'ACTIVE', provider_account: 'john.doe@example.com' });
    expect(await failure(stack.services.connectFlow.verifyUser(authRequestId, identifier))).toMatchObject({
      code: 'user_verification_invalid',
    });
    expect(await accountRow(account.id)).toEqual(bound);
  });

  it('still activates a consent that an older build held on the account itself (a rolling upgrade)', async () => {
    const identifier = fresh();
    const { account, authRequestId } = await consent(stack.services, identifier, { userVerifyUrl: VERIFY_URL });
    // As the build before 0013 left it: the grant on the PENDING_VERIFICATION account, none on the row.
    const { vault } = stack.services;
    const sealed = vault.sealTokens(account.id, { accessToken: 'held-by-the-older-build', tokenType: 'Bearer' });
    await stack.db.db.updateTable('connected_accounts').set(sealed).where('id', '=', account.id).execute();
    await stack.db.db
      .updateTable('user_verifications')
      .set({ tokens_enc: null, key_id: null })
      .where('connected_account_id', '=', account.id)
      .execute();
    await stack.services.connectFlow.verifyUser(authRequestId, identifier);
    expect((await accountRow(account.id)).status).toBe('ACTIVE');
    expect(await accessToken(account.id)).toBe('held-by-the-older-build');
  });

  describe('of an account that already works', () => {
    it('keeps the account ACTIVE on its own grant until the app confirms, then switches to the new grant', async () => {
      const identifier = fresh();
      const accountId = await stack.connectAccount('MY_GMAIL', identifier, 'john.doe@example.com');
      const before = await accountRow(accountId);
      const working = await accessToken(accountId);

      const { account, authRequestId } = await consent(stack.services, identifier, { userVerifyUrl: VERIFY_URL });
      expect(account.status).toBe('ACTIVE');
      expect(await accountRow(accountId)).toEqual(before);
      expect(await accessToken(accountId)).toBe(working);
      const held = await verificationRow(accountId);
      expect(held.tokens_enc).toMatch(/^v1\./);
      expect(held.key_id).toBe('test1');

      await stack.services.connectFlow.verifyUser(authRequestId, identifier);
      const after = await accountRow(accountId);
      expect(after).toMatchObject({ status: 'ACTIVE', provider_subject: before.provider_subject });
      expect(after.token_version).toBeGreaterThan(before.token_version);
      const switched = await accessToken(accountId);
      expect(switched).not.toBe(working);
      expect(live(switched)).toBe(true);
      expect((await verificationRow(accountId)).tokens_enc).toBeNull();
    });

    it('drops only the held grant when the app never confirms', async () => {
      const identifier = fresh();
      const accountId = await stack.connectAccount('MY_GMAIL', identifier, 'john.doe@example.com');
      const before = await accountRow(accountId);
      const working = await accessToken(accountId);
      const { authRequestId } = await consent(stack.services, identifier, { userVerifyUrl: VERIFY_URL });

      clock.advance(11 * 60_000);
      await stack.services.accounts.list({ identifier, limit: 10, offset: 0 });
      expect(await accountRow(accountId)).toEqual(before);
      expect((await verificationRow(accountId)).tokens_enc).toBeNull();
      expect(await failure(stack.services.connectFlow.verifyUser(authRequestId, identifier))).toMatchObject({
        code: 'user_verification_expired',
      });
      expect(await accountRow(accountId)).toEqual(before);
      expect(live(working)).toBe(true);
    });

    it('drops only the held grant on a wrong identifier, and the working grant stays valid at the provider', async () => {
      const identifier = fresh();
      const accountId = await stack.connectAccount('MY_GMAIL', identifier, 'john.doe@example.com');
      const before = await accountRow(accountId);
      const working = await accessToken(accountId);
      const { authRequestId } = await consent(stack.services, identifier, { userVerifyUrl: VERIFY_URL });

      expect(await failure(stack.services.connectFlow.verifyUser(authRequestId, 'someone-else'))).toMatchObject({
        code: 'user_verification_mismatch',
      });
      expect(await accountRow(accountId)).toEqual(before);
      expect((await verificationRow(accountId)).tokens_enc).toBeNull();
      expect(live(working)).toBe(true);
      expect(await accessToken(accountId)).toBe(working);
    });

    it('does not apply a grant held from the target the connection has since left', async () => {
      const identifier = fresh();
      await stack.connectAccount('MY_GMAIL', identifier, 'john.doe@example.com');
      const { account, authRequestId } = await consent(stack.services, identifier, { userVerifyUrl: VERIFY_URL });
      const { connections, accounts } = stack.services;
      const moved = await connections.update(connection.id, { target: 'provider' });
      try {
        // The switch dropped every grant; tokens a backend brings for the new target make it ACTIVE again.
        const found = await accounts.get({ id: account.id });
        await accounts.replaceTokens(found.account, moved, {
          accessToken: 'brought-for-provider',
          tokenType: 'Bearer',
        });
        const brought = await accountRow(account.id);
        expect(await failure(stack.services.connectFlow.verifyUser(authRequestId, identifier))).toMatchObject({
          code: 'user_verification_invalid',
        });
        expect(await accountRow(account.id)).toEqual(brought);
      } finally {
        connection = await connections.update(connection.id, { target: 'sandbox' });
      }
    });
  });
});
