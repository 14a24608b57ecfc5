import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionRow } from '../src/connections/connections.js';
import { AppError } from '../src/errors.js';
import { manualClock } from './support/clock.js';
import { ENGINES } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';

/**
 * ConnectFlow's own rules, called directly (issue 18's mutation testing of connect-flow.ts):
 * what a link and an authorization request record, each refusal with its code and message,
 * the lifetimes to the millisecond, and the history each outcome writes. The browser paths
 * are covered by connect-flow.test.ts and connect-trust.test.ts.
 */
describe.each(ENGINES)('the connect flow, rule by rule, on %s', (engine) => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  let connection: ConnectionRow;
  let people = 0;
  beforeAll(async () => {
    stack = await startStack({ engine, clock });
    await stack.createConnection('MY_GMAIL', 'gmail');
    const found = await stack.services.connections.findByName('MY_GMAIL');
    if (!found) throw new Error('connection missing');
    connection = found;
  });
  afterAll(() => stack?.close());
  afterEach(() => stack.sandbox.state.faults.clear());

  const flow = () => stack.services.connectFlow;
  const fresh = () => `person-${++people}`;
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };
  const tokenOf = (link: string) => new URL(link).pathname.split('/').pop() ?? '';
  /** The sandbox's consent as `email`: the callback's query, as the provider redirects with it. */
  const consent = async (authorizeUrl: string, email = 'john.doe@example.com', decision = 'allow') => {
    const authorize = new URL(authorizeUrl);
    authorize.searchParams.set('login_hint', email);
    authorize.searchParams.set('sandbox_auto_consent', decision);
    const response = await stack.fetch(authorize, { redirect: 'manual' });
    return new URL(response.headers.get('location') ?? '').searchParams;
  };
  const events = async (accountId: string, type: string) =>
    (await stack.services.accountEvents.list({ accountId, type, limit: 10, offset: 0 })).events.map((e) => e.detail);
  const accountRow = (id: string) =>
    stack.db.db.selectFrom('connected_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('records a link with its expiry, source and verification in the history', async () => {
    const issued = await flow().authLink(connection, fresh());
    expect(issued.expiry).toBe(new Date(clock.now() + stack.services.config.authLinkTtlSeconds * 1000).toISOString());
    const verified = await flow().authLink(connection, fresh(), {
      userVerifyUrl: 'https://app.example/verify',
      source: 'dashboard',
    });
    expect(await events(issued.account.id, 'account.link_issued')).toEqual([
      { link_id: expect.stringMatching(/^al_/), link_expiry: issued.expiry, source: 'api', user_verification: false },
    ]);
    expect(await events(verified.account.id, 'account.link_issued')).toEqual([
      {
        link_id: expect.stringMatching(/^al_/),
        link_expiry: verified.expiry,
        source: 'dashboard',
        user_verification: true,
      },
    ]);
  });

  it('refuses an unknown link, and a link at the very millisecond it expires, each with its message', async () => {
    expect(await failure(flow().startAuthorization('no-such-link'))).toMatchObject({
      code: 'auth_link_invalid',
      message: 'this authentication link is not valid',
    });
    const issued = await flow().authLink(connection, fresh());
    clock.advance(Date.parse(issued.expiry) - clock.now());
    expect(await failure(flow().startAuthorization(tokenOf(issued.link)))).toMatchObject({
      code: 'auth_link_expired',
      message: 'this authentication link has expired',
    });
  });

  it('refuses a revoked link and a used one with their messages', async () => {
    const identifier = fresh();
    const older = await flow().authLink(connection, identifier);
    const newer = await flow().authLink(connection, identifier);
    expect(await failure(flow().startAuthorization(tokenOf(older.link)))).toMatchObject({
      code: 'auth_link_revoked',
      message: 'this authentication link was replaced by a newer one or revoked',
    });
    const { url } = await flow().startAuthorization(tokenOf(newer.link));
    await flow().completeAuthorization(await consent(url));
    expect(await failure(flow().startAuthorization(tokenOf(newer.link)))).toMatchObject({
      code: 'auth_link_used',
      message: 'this authentication link was already used',
    });
  });

  it("stores each authorization request under an ar_ id and asks for the link's extra scopes too", async () => {
    const extra = 'https://www.googleapis.com/auth/calendar.readonly';
    const issued = await flow().authLink(connection, fresh(), { extraScopes: [extra] });
    const { url } = await flow().startAuthorization(tokenOf(issued.link));
    const scopes = (new URL(url).searchParams.get('scope') ?? '').split(' ');
    expect(scopes).toContain(extra);
    expect(scopes).toEqual(expect.arrayContaining(connection.scopes ? JSON.parse(connection.scopes) : []));
    expect(scopes.length).toBeGreaterThan(1);
    const requests = await stack.db.db
      .selectFrom('auth_requests')
      .select('id')
      .where('connected_account_id', '=', issued.account.id)
      .execute();
    expect(requests.map((r) => r.id)).toEqual([expect.stringMatching(/^ar_/)]);
  });

  it('refuses an unknown state, and the state of an account deleted meanwhile, as not known', async () => {
    const notKnown = { code: 'auth_state_invalid', message: 'this authorization request is not known' };
    expect(await failure(flow().completeAuthorization(new URLSearchParams({ state: 'nope' })))).toMatchObject(notKnown);
    expect(await failure(flow().completeAuthorization(new URLSearchParams()))).toMatchObject(notKnown);
    const issued = await flow().authLink(connection, fresh());
    const { url } = await flow().startAuthorization(tokenOf(issued.link));
    const params = await consent(url);
    await stack.db.db.deleteFrom('auth_links').where('connected_account_id', '=', issued.account.id).execute();
    await stack.db.db.deleteFrom('account_events').where('connected_account_id', '=', issued.account.id).execute();
    await stack.services.accounts.delete({ id: issued.account.id });
    expect(await failure(flow().completeAuthorization(params))).toMatchObject(notKnown);
  });

  it('refuses a state at the very millisecond it expires, and a replayed one as reused even after it expired', async () => {
    const issued = await flow().authLink(connection, fresh());
    const { url } = await flow().startAuthorization(tokenOf(issued.link));
    const params = await consent(url);
    clock.advance(10 * 60_000);
    expect(await failure(flow().completeAuthorization(params))).toMatchObject({
      code: 'auth_state_expired',
      message: 'this authorization request has expired',
    });

    const again = await flow().authLink(connection, fresh());
    const started = await flow().startAuthorization(tokenOf(again.link));
    const used = await consent(started.url);
    await flow().completeAuthorization(used);
    clock.advance(11 * 60_000);
    expect(await failure(flow().completeAuthorization(used))).toMatchObject({
      code: 'auth_state_reused',
      message: 'this authorization request was already used',
    });
  });

  it('records a declined consent and a provider error with the link and the reason', async () => {
    const issued = await flow().authLink(connection, fresh());
    const { url } = await flow().startAuthorization(tokenOf(issued.link));
    const denied = await consent(url, 'john.doe@example.com', 'deny');
    expect(await failure(flow().completeAuthorization(denied))).toMatchObject({
      code: 'consent_denied',
      message: 'the user declined the request',
    });
    const [issuedEvent] = await events(issued.account.id, 'account.link_issued');
    expect(await events(issued.account.id, 'account.consent_failed')).toEqual([
      { link_id: issuedEvent?.link_id, reason: 'consent_denied' },
    ]);

    const other = await flow().authLink(connection, fresh());
    const started = await flow().startAuthorization(tokenOf(other.link));
    const params = await consent(started.url);
    params.delete('code');
    params.set('error', 'temporarily_unavailable');
    expect(await failure(flow().completeAuthorization(params))).toMatchObject({
      code: 'provider_error',
      message: 'the provider answered the authorization with temporarily_unavailable',
    });
    expect((await accountRow(other.account.id)).status).toBe('PENDING_AUTH');
  });

  it('keeps the provider failure of the code exchange as the cause', async () => {
    const issued = await flow().authLink(connection, fresh());
    const { url } = await flow().startAuthorization(tokenOf(issued.link));
    const params = await consent(url);
    stack.sandbox.state.addFault({ match: { method: 'POST', pathPrefix: '/token' }, status: 503, times: 5 });
    const error = await failure(flow().completeAuthorization(params));
    expect(error.code).toBe('provider_error');
    expect(error.cause).toBeInstanceOf(AppError);
    expect(error.message).toBe((error.cause as AppError).message);
  });

  it('lets the bound provider account consent again', async () => {
    const identifier = fresh();
    const first = await flow().authLink(connection, identifier);
    await flow().completeAuthorization(await consent((await flow().startAuthorization(tokenOf(first.link))).url));
    const again = await flow().authLink(connection, identifier);
    const { url } = await flow().startAuthorization(tokenOf(again.link));
    const done = await flow().completeAuthorization(await consent(url));
    expect(done.account.status).toBe('ACTIVE');
    expect(await events(first.account.id, 'account.consent_completed')).toHaveLength(2);
  });

  it('names the bound provider account when another one consents, and records the attempt', async () => {
    const identifier = fresh();
    const first = await flow().authLink(connection, identifier);
    await flow().completeAuthorization(await consent((await flow().startAuthorization(tokenOf(first.link))).url));
    expect(await events(first.account.id, 'account.consent_completed')).toEqual([
      { link_id: expect.stringMatching(/^al_/), provider_account: 'john.doe@example.com' },
    ]);
    const second = await flow().authLink(connection, identifier);
    const { url } = await flow().startAuthorization(tokenOf(second.link));
    const error = await failure(flow().completeAuthorization(await consent(url, 'jane.doe@example.com')));
    expect(error).toMatchObject({
      code: 'identity_mismatch',
      message: 'this account is connected to john.doe@example.com; a different account cannot replace it',
    });
    expect(await events(first.account.id, 'account.identity_mismatch')).toEqual([
      {
        link_id: expect.stringMatching(/^al_/),
        provider_account: 'john.doe@example.com',
        attempted_provider_account: 'jane.doe@example.com',
      },
    ]);
  });

  describe('with user verification', () => {
    const verifyUrl = 'https://app.example/verify';
    /** A consent held for verification; returns the account and the auth_request_id the app receives. */
    const held = async (identifier = fresh(), email = 'john.doe@example.com') => {
      const issued = await flow().authLink(connection, identifier, { userVerifyUrl: verifyUrl, state: 'app-state' });
      const { url } = await flow().startAuthorization(tokenOf(issued.link));
      const done = await flow().completeAuthorization(await consent(url, email));
      const next = new URL(done.verification?.url ?? '');
      expect(`${next.origin}${next.pathname}`).toBe(verifyUrl);
      expect(next.searchParams.get('state')).toBe('app-state');
      return { identifier, account: done.account, authRequestId: next.searchParams.get('auth_request_id') ?? '' };
    };

    it('records the request, then activates with the provider identity it held', async () => {
      const { identifier, account, authRequestId } = await held();
      expect(account.status).toBe('PENDING_VERIFICATION');
      expect(await events(account.id, 'account.verification_requested')).toEqual([
        { link_id: expect.stringMatching(/^al_/), provider_account: 'john.doe@example.com' },
      ]);
      const pending = await stack.db.db
        .selectFrom('user_verifications')
        .selectAll()
        .where('connected_account_id', '=', account.id)
        .executeTakeFirstOrThrow();
      expect(pending.id).toMatch(/^uv_/);
      expect(pending.provider_account).toBe('john.doe@example.com');
      expect(pending.provider_subject).toBeTruthy();
      expect(await flow().verifyUser(authRequestId, identifier)).toEqual({
        postUserVerifyRedirectUrl: `${stack.url}/connect/verified`,
      });
      expect(await accountRow(account.id)).toMatchObject({
        status: 'ACTIVE',
        provider_account: 'john.doe@example.com',
        provider_subject: pending.provider_subject,
      });
      expect(await events(account.id, 'account.verified')).toEqual([{ provider_account: 'john.doe@example.com' }]);
    });

    it('discards the grant on a wrong identifier, and records who tried', async () => {
      const { account, authRequestId } = await held();
      expect(await failure(flow().verifyUser(authRequestId, 'someone-else'))).toMatchObject({
        code: 'user_verification_mismatch',
        message: 'the identifier does not match the connected account; the consent was discarded',
      });
      expect(await accountRow(account.id)).toMatchObject({
        status: 'PENDING_VERIFICATION',
        status_reason: 'user_verification_mismatch',
        tokens_enc: null,
      });
      expect(await events(account.id, 'account.verification_failed')).toEqual([
        { reason: 'identifier_mismatch', attempted_provider_account: 'john.doe@example.com' },
      ]);
    });

    it('refuses an unknown id, a used one, and one at the very millisecond it expires, with their messages', async () => {
      expect(await failure(flow().verifyUser('no-such-request', 'x'))).toMatchObject({
        code: 'user_verification_invalid',
        message: 'no user verification is pending for this auth_request_id',
      });
      const { identifier, authRequestId } = await held();
      await flow().verifyUser(authRequestId, identifier);
      expect(await failure(flow().verifyUser(authRequestId, identifier))).toMatchObject({
        code: 'user_verification_used',
        message: 'this auth_request_id was already used',
      });
      const late = await held();
      const row = await stack.db.db
        .selectFrom('user_verifications')
        .select('expires_at')
        .where('connected_account_id', '=', late.account.id)
        .executeTakeFirstOrThrow();
      // Keep the account itself from expiring first: only the request's own lifetime is tested.
      await stack.db.db
        .updateTable('user_verifications')
        .set({ expires_at: new Date(clock.now() + 1000).toISOString() })
        .where('connected_account_id', '=', late.account.id)
        .execute();
      expect(Date.parse(row.expires_at)).toBeGreaterThan(clock.now());
      clock.advance(1000);
      expect(await failure(flow().verifyUser(late.authRequestId, late.identifier))).toMatchObject({
        code: 'user_verification_expired',
        message: 'this auth_request_id has expired; the user must connect again',
      });
    });

    it('passes no state to the app when the link carried none', async () => {
      const issued = await flow().authLink(connection, fresh(), { userVerifyUrl: verifyUrl });
      const { url } = await flow().startAuthorization(tokenOf(issued.link));
      const done = await flow().completeAuthorization(await consent(url));
      const next = new URL(done.verification?.url ?? '');
      expect([...next.searchParams.keys()]).toEqual(['auth_request_id']);
    });

    it('answers a replayed auth_request_id as used, even once it expired', async () => {
      const { identifier, authRequestId } = await held();
      await flow().verifyUser(authRequestId, identifier);
      clock.advance(11 * 60_000);
      expect(await failure(flow().verifyUser(authRequestId, identifier))).toMatchObject({
        code: 'user_verification_used',
      });
    });

    it('does not activate an account that left PENDING_VERIFICATION meanwhile', async () => {
      const { identifier, account, authRequestId } = await held();
      // Disconnected by another request after the consent; its verification row is still there.
      await stack.db.db
        .updateTable('connected_accounts')
        .set({ status: 'DISCONNECTED' })
        .where('id', '=', account.id)
        .execute();
      expect(await failure(flow().verifyUser(authRequestId, identifier))).toMatchObject({
        code: 'user_verification_invalid',
      });
      expect((await accountRow(account.id)).status).toBe('DISCONNECTED');
    });
  });
});
