import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectFlow } from '../src/accounts/connect-flow.js';
import { AppError } from '../src/errors.js';
import { manualClock } from './support/clock.js';
import { ENGINES } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';

type Account = {
  connected_account: {
    id: string;
    status: string;
    authorization_details: { oauth_token: { scopes: string[]; domain: string } };
  };
};

describe('the OAuth connect flow', () => {
  const clock = manualClock(Date.now());
  let stack: Stack;
  let n = 0;
  beforeAll(async () => {
    stack = await startStack({ clock });
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterAll(() => stack?.close());
  afterEach(() => stack.sandbox.state.faults.clear());

  const account = async (identifier: string) =>
    (await stack.api<Account>('GET', `/api/v1/connected_accounts/details?connector=MY_GMAIL&identifier=${identifier}`))
      .body.connected_account;
  const link = async (identifier: string) =>
    (
      await stack.api<{ link: string; expiry: string }>('POST', '/api/v1/connected_accounts/magic_link', {
        connector: 'MY_GMAIL',
        identifier,
      })
    ).body;
  /** Opens the link and returns the sandbox authorize URL it redirected to. */
  const open = async (url: string) => {
    const response = await stack.fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location') ?? '');
  };
  /** The callback URL the sandbox sends the browser to after auto-consent. */
  const decide = async (authorize: URL, decision: 'allow' | 'deny' = 'allow') => {
    authorize.searchParams.set('login_hint', 'john.doe@example.com');
    authorize.searchParams.set('sandbox_auto_consent', decision);
    const response = await stack.fetch(authorize, { redirect: 'manual' });
    return response.headers.get('location') ?? '';
  };
  const fresh = () => `user-${n++}`;

  it('takes an authentication link through sandbox consent to an ACTIVE account with encrypted tokens', async () => {
    const id = fresh();
    const { link: url, expiry } = await link(id);
    expect(url).toMatch(new RegExp(`^${stack.url}/connect/`));
    expect(Date.parse(expiry)).toBeGreaterThan(clock.now());
    expect((await account(id)).status).toBe('PENDING_AUTH');

    const authorize = await open(url);
    expect(authorize.origin).toBe(stack.sandbox.url);
    expect(authorize.pathname).toBe('/o/oauth2/v2/auth');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('access_type')).toBe('offline');
    expect(authorize.searchParams.get('prompt')).toBe('consent');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${stack.url}/oauth/callback`);
    expect(authorize.searchParams.get('scope')).toContain('https://www.googleapis.com/auth/gmail.modify');

    const page = await stack.fetch(await decide(authorize));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Gmail is connected');

    const active = await account(id);
    expect(active.status).toBe('ACTIVE');
    expect(active.authorization_details.oauth_token.domain).toBe('john.doe@example.com');
    expect(active.authorization_details.oauth_token.scopes).toContain('https://www.googleapis.com/auth/gmail.modify');
    const row = await stack.db.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', '=', active.id)
      .executeTakeFirstOrThrow();
    expect(row.tokens_enc).toMatch(/^v1\./);
    expect(row.key_id).toBe('test1');
  });

  it('refuses a replayed callback and keeps the account ACTIVE', async () => {
    const id = fresh();
    const callback = await decide(await open((await link(id)).link));
    expect((await stack.fetch(callback)).status).toBe(200);
    const replay = await stack.fetch(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already used');
    expect((await account(id)).status).toBe('ACTIVE');
  });

  it('refuses an unknown state without touching any account', async () => {
    // A pending account with a consent under way and an active one, both left as they were.
    await decide(await open((await link(fresh())).link));
    const callback = await decide(await open((await link(fresh())).link));
    expect((await stack.fetch(callback)).status).toBe(200);
    const snapshot = async () => ({
      accounts: await stack.db.db.selectFrom('connected_accounts').selectAll().orderBy('id').execute(),
      requests: await stack.db.db.selectFrom('auth_requests').selectAll().orderBy('id').execute(),
      links: await stack.db.db.selectFrom('auth_links').selectAll().orderBy('id').execute(),
    });
    const before = await snapshot();
    const exchanges = stack.sandbox.state.readCounters().tokenCalls.authorization_code ?? 0;
    const response = await stack.fetch(`${stack.url}/oauth/callback?state=forged&code=abc`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('not valid');
    expect(await snapshot()).toEqual(before);
    expect(stack.sandbox.state.readCounters().tokenCalls.authorization_code ?? 0).toBe(exchanges);
  });

  it('refuses an expired authentication link with its own message', async () => {
    const id = fresh();
    const { link: url } = await link(id);
    clock.advance(24 * 3600_000 + 1000);
    const response = await stack.fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(410);
    expect(await response.text()).toContain('expired');
    expect((await account(id)).status).toBe('PENDING_AUTH');
  });

  it('refuses a consent that took longer than the state lifetime', async () => {
    const id = fresh();
    const authorize = await open((await link(id)).link);
    const callback = await decide(authorize);
    clock.advance(11 * 60_000);
    const exchanges = stack.sandbox.state.readCounters().tokenCalls.authorization_code ?? 0;
    const response = await stack.fetch(callback);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('took too long');
    // Refused on the state's own lifetime, before the code ever reaches the provider.
    expect(stack.sandbox.state.readCounters().tokenCalls.authorization_code ?? 0).toBe(exchanges);
    expect((await account(id)).status).toBe('PENDING_AUTH');
  });

  it('fails the exchange when the PKCE challenge does not match the verifier', async () => {
    const id = fresh();
    const authorize = await open((await link(id)).link);
    authorize.searchParams.set('code_challenge', 'A'.repeat(43));
    const response = await stack.fetch(await decide(authorize));
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('could not complete the sign-in');
    expect((await account(id)).status).toBe('PENDING_AUTH');
    expect(stack.sandbox.state.readCounters().tokenCalls.authorization_code).toBeGreaterThan(0);
  });

  it('tells the user when they denied consent and leaves the account as it was', async () => {
    const id = fresh();
    const denied = await stack.fetch(await decide(await open((await link(id)).link), 'deny'));
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('Access was not granted');
    expect((await account(id)).status).toBe('PENDING_AUTH');

    // An already connected account stays connected when a later consent is denied.
    expect((await stack.fetch(await decide(await open((await link(id)).link)))).status).toBe(200);
    await stack.fetch(await decide(await open((await link(id)).link), 'deny'));
    expect((await account(id)).status).toBe('ACTIVE');
  });

  it('sends the user back to the app for a new link after a denial or a provider error, since the link is spent', async () => {
    const advice = async (response: Response) => {
      const text = await response.text();
      expect(text).toContain('ask the app that sent it for a new link');
      expect(text).not.toContain('authentication link again');
    };
    const denied = await link(fresh());
    const deniedPage = await stack.fetch(await decide(await open(denied.link), 'deny'));
    expect(deniedPage.status).toBe(400);
    await advice(deniedPage);
    expect((await stack.fetch(denied.link, { redirect: 'manual' })).status).toBe(410);

    const failed = await link(fresh());
    const callback = await decide(await open(failed.link));
    stack.sandbox.state.addFault({ match: { method: 'POST', pathPrefix: '/token' }, status: 503, times: 5 });
    const failedPage = await stack.fetch(callback);
    expect(failedPage.status).toBe(502);
    await advice(failedPage);
    expect((await stack.fetch(failed.link, { redirect: 'manual' })).status).toBe(410);

    stack.sandbox.state.faults.clear();

    // A replayed callback: its link went with the first use.
    const replayed = await link(fresh());
    const first = await decide(await open(replayed.link));
    expect((await stack.fetch(first)).status).toBe(200);
    const again = await stack.fetch(first);
    expect(again.status).toBe(400);
    const text = await again.text();
    expect(text).toContain('ask the app that sent the link for a new one');
    expect(text).not.toContain('authentication link again');
  });

  it('shows a provider error when the token endpoint is down, and the account keeps its status', async () => {
    const id = fresh();
    const callback = await decide(await open((await link(id)).link));
    stack.sandbox.state.addFault({ match: { method: 'POST', pathPrefix: '/token' }, status: 503, times: 5 });
    const response = await stack.fetch(callback);
    expect(response.status).toBe(502);
    expect((await account(id)).status).toBe('PENDING_AUTH');
  });
});

describe('the OAuth connect flow with the sandbox unreachable', () => {
  it('shows a provider error page and leaves the account pending', async () => {
    const stack = await startStack();
    try {
      await stack.createConnection('MY_GMAIL', 'gmail');
      const { body } = await stack.api<{ link: string }>('POST', '/api/v1/connected_accounts/magic_link', {
        connector: 'MY_GMAIL',
        identifier: 'john-doe',
      });
      const opened = await stack.fetch(body.link, { redirect: 'manual' });
      const authorize = new URL(opened.headers.get('location') ?? '');
      authorize.searchParams.set('login_hint', 'john.doe@example.com');
      authorize.searchParams.set('sandbox_auto_consent', 'allow');
      const callback = (await stack.fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? '';
      await stack.sandbox.close();
      const page = await stack.fetch(callback);
      expect(page.status).toBe(502);
      expect(await page.text()).toContain('Nothing was changed');
      const after = await stack.api<Account>(
        'GET',
        '/api/v1/connected_accounts/details?connector=MY_GMAIL&identifier=john-doe',
      );
      expect(after.body.connected_account.status).toBe('PENDING_AUTH');
    } finally {
      await stack.close().catch(() => undefined);
    }
  });
});

/**
 * Two callbacks with one state, held together between reading the state and claiming it
 * (ConnectFlow's beforeClaim hook), so both have passed every check when they claim: only
 * the atomic claim (used_at IS NULL) can let exactly one through.
 */
describe.each(ENGINES)('two callbacks racing with one state on %s', (engine) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ engine });
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterAll(() => stack?.close());

  it('lets exactly one complete; the other is refused as a reused state', async () => {
    const { body } = await stack.api<{ link: string }>('POST', '/api/v1/connected_accounts/magic_link', {
      connector: 'MY_GMAIL',
      identifier: 'racer',
    });
    const opened = await stack.fetch(body.link, { redirect: 'manual' });
    const authorize = new URL(opened.headers.get('location') ?? '');
    authorize.searchParams.set('login_hint', 'john.doe@example.com');
    authorize.searchParams.set('sandbox_auto_consent', 'allow');
    const callback = new URL((await stack.fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? '');

    let arrived = 0;
    let release: () => void = () => undefined;
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { services } = stack;
    const flow = new ConnectFlow({
      db: services.db,
      config: services.config,
      clock: services.clock,
      encryptor: services.encryptor,
      oauth: services.oauth,
      logger: services.logger,
      connections: services.connections,
      accounts: services.accounts,
      events: services.accountEvents,
      beforeClaim: async () => {
        arrived++;
        if (arrived === 2) release();
        await bothRead;
      },
    });
    const exchanges = stack.sandbox.state.readCounters().tokenCalls.authorization_code ?? 0;
    const outcomes = await Promise.allSettled([
      flow.completeAuthorization(new URLSearchParams(callback.search)),
      flow.completeAuthorization(new URLSearchParams(callback.search)),
    ]);
    expect(arrived).toBe(2);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const reason = (lost[0] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(AppError);
    expect((reason as AppError).code).toBe('auth_state_reused');
    expect(stack.sandbox.state.readCounters().tokenCalls.authorization_code ?? 0).toBe(exchanges + 1);
    const account = await stack.db.db
      .selectFrom('connected_accounts')
      .select('status')
      .where('identifier', '=', 'racer')
      .executeTakeFirstOrThrow();
    expect(account.status).toBe('ACTIVE');
  });
});
