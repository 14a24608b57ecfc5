import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../src/config.js';
import { AppError, ProviderError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { AnswerTooLargeError, MAX_AUTH_ANSWER_BYTES } from '../src/oauth/bounded-fetch.js';
import { GrantRevokedError, type OAuthApp, OAuthClient } from '../src/oauth/client.js';
import { createCatalog, providers } from '../src/providers/index.js';
import type { ProviderAnswer, ProviderDefinition, RevokeRequest, TokenResponse } from '../src/providers/types.js';
import { type ManualClock, manualClock } from './support/clock.js';
import { listenOnLoopback } from './support/loopback.js';
import { inProcessSandbox, type RunningSandbox } from './support/sandbox.js';

const PUBLIC_URL = 'http://localhost:4321';
const CALLBACK = `${PUBLIC_URL}/oauth/callback`;
const GMAIL_MODIFY = 'https://www.googleapis.com/auth/gmail.modify';
const GMAIL_SETTINGS = 'https://www.googleapis.com/auth/gmail.settings.basic';
const GMAIL_READONLY = 'https://www.googleapis.com/auth/gmail.readonly';
const USERINFO_EMAIL = 'https://www.googleapis.com/auth/userinfo.email';
const CLIENT_SECRET = 'app-secret-0f9e8d';
const REFRESH_TOKEN = '1//refresh-token-7c6b5a';
const ACCESS_TOKEN = 'ya29.access-token-4d3c2b';

/** What the fake provider got: one entry per request, as it arrived on the socket. */
interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  form: Record<string, string>;
}

type Answer = (request: Received, response: ServerResponse) => void;

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };

/**
 * A provider's token, userinfo and revocation endpoints on 127.0.0.1: each test sets how it
 * answers, and it records exactly what it received.
 */
async function fakeProvider() {
  const received: Received[] = [];
  let answer: Answer = json(404, { error: 'not_found' });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const seen: Received = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
        form: Object.fromEntries(new URLSearchParams(body)),
      };
      received.push(seen);
      answer(seen, response);
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    received,
    answer(next: Answer) {
      answer = next;
    },
    close,
  };
}

type FakeProvider = Awaited<ReturnType<typeof fakeProvider>>;

/** What the made-up provider's hooks were handed, so a test can say what the engine gave them. */
interface HookLog {
  tokenAnswers: ProviderAnswer[];
  revokes: Omit<RevokeRequest, 'fetch'>[];
  revokeAnswers: { status: number; statusText: string }[];
  identities: unknown[];
}

const quillToken = z.object({
  ok: z.boolean(),
  error: z.string().optional(),
  detail: z.string().optional(),
  token: z.string().optional(),
  kind: z.string().optional(),
  renew: z.string().optional(),
  ttl: z.number().optional(),
  granted: z.string().optional(),
});

/**
 * Quill is made up, with the quirks the hooks exist for: a token answer of its own shape
 * (refusals as `{ok:false}` in any status), scopes joined by commas under `user_scope`, no
 * PKCE, a revocation that is not RFC 7009 and an identity under `handle`.
 */
function quill(hooks: HookLog, revokeBehaviour: (request: RevokeRequest) => Promise<void>): ProviderDefinition {
  return {
    name: 'quill',
    displayName: 'Quill',
    description: 'A made-up provider whose OAuth departs from the RFCs.',
    icon: '',
    oauth: {
      authorizationEndpoint: 'https://quill.example/oauth/authorize?tenant=acme',
      tokenEndpoint: 'https://api.quill.example/oauth/token',
      revocationEndpoint: 'https://api.quill.example/oauth/revoke?mode=all',
      userinfoEndpoint: 'https://api.quill.example/me',
      identityScopes: ['identity.basic'],
      scopeSeparator: ',',
      scopeParameter: 'user_scope',
      pkce: false,
      readTokenResponse(answer): TokenResponse {
        hooks.tokenAnswers.push(answer);
        const read = quillToken.parse(answer.body);
        if (!read.ok) return { ok: false, error: read.error ?? 'unknown', description: read.detail };
        return {
          ok: true,
          accessToken: read.token ?? '',
          tokenType: read.kind ?? 'bearer',
          refreshToken: read.renew,
          expiresIn: read.ttl,
          scope: read.granted,
        };
      },
      async revoke(request) {
        const { fetch: _fetch, ...rest } = request;
        hooks.revokes.push(rest);
        await revokeBehaviour(request);
      },
      readIdentity(userinfo) {
        hooks.identities.push(userinfo);
        return z.object({ handle: z.string() }).safeParse(userinfo).data?.handle;
      },
    },
    sandbox: true,
    defaultScopes: ['notes.read', 'notes.write'],
    apiOrigins: ['https://api.quill.example'],
    tools: [],
  };
}

/** A provider that follows the RFCs and has nothing else: no revocation, no userinfo, no extras. */
const plain = (): ProviderDefinition => ({
  name: 'plain',
  displayName: 'Plain',
  description: 'A made-up provider with only the required endpoints.',
  icon: '',
  oauth: {
    authorizationEndpoint: 'https://plain.example/authorize',
    tokenEndpoint: 'https://plain.example/token',
  },
  sandbox: true,
  defaultScopes: ['read'],
  apiOrigins: ['https://plain.example'],
  tools: [],
});

/** The sandbox does not emulate this one. */
const elsewhere = (): ProviderDefinition => ({
  ...plain(),
  name: 'elsewhere',
  displayName: 'Elsewhere',
  sandbox: undefined,
});

const gmailApp = (overrides: Partial<OAuthApp> = {}): OAuthApp => ({
  provider: 'gmail',
  target: 'sandbox',
  clientId: 'gmail-client.apps.example',
  clientSecret: () => CLIENT_SECRET,
  scopes: [],
  ...overrides,
});

const quillApp = (overrides: Partial<OAuthApp> = {}): OAuthApp => ({
  provider: 'quill',
  target: 'sandbox',
  clientId: 'quill-client',
  clientSecret: () => CLIENT_SECRET,
  scopes: [],
  ...overrides,
});

/** What `pending` rejected with (fails when it resolved). */
async function failureOf(pending: Promise<unknown>): Promise<ProviderError> {
  const outcome = await pending.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.resolved)}`);
  return outcome.error as ProviderError;
}

/** A JSON token answer padded with spaces to exactly `size` bytes. */
function paddedTokenAnswer(size: number): string {
  const body = JSON.stringify({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 60 });
  return `${body.slice(0, -1)}${' '.repeat(size - body.length)}}`;
}

describe('OAuthClient', () => {
  let provider: FakeProvider;
  let clock: ManualClock;
  let hooks: HookLog;
  let revokeBehaviour: (request: RevokeRequest) => Promise<void>;
  let logged: string[];

  beforeEach(async () => {
    provider = await fakeProvider();
    clock = manualClock();
    hooks = { tokenAnswers: [], revokes: [], revokeAnswers: [], identities: [] };
    revokeBehaviour = async () => undefined;
    logged = [];
  });
  afterEach(() => provider?.close());

  /** The client as the server builds it, its sandbox URL pointing at the fake provider. */
  function engine(env: Record<string, string> = {}, fetchWith: typeof fetch = fetch) {
    const logs = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    return new OAuthClient({
      config: loadConfig({ SWITCHBOARD_PUBLIC_URL: PUBLIC_URL, SWITCHBOARD_SANDBOX_URL: provider.url, ...env }),
      catalog: createCatalog([...providers, quill(hooks, (request) => revokeBehaviour(request)), plain(), elsewhere()]),
      fetch: fetchWith,
      logger: createLogger('warn', logs),
      clock,
    });
  }

  /** Each log line as JSON, without pino's time. */
  const logLines = () =>
    logged.map((line) => {
      const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });

  describe('the consent URL', () => {
    it("asks Gmail's endpoint for a code with every parameter, in order, and the login hint last", () => {
      const url = new URL(engine().authorizeUrl(gmailApp(), 'state-1', 'challenge-1', 'alice@example.com'));
      expect(`${url.origin}${url.pathname}`).toBe(`${provider.url}/o/oauth2/v2/auth`);
      expect([...url.searchParams]).toEqual([
        ['response_type', 'code'],
        ['client_id', 'gmail-client.apps.example'],
        ['redirect_uri', CALLBACK],
        ['scope', `${GMAIL_MODIFY} ${GMAIL_SETTINGS} ${USERINFO_EMAIL}`],
        ['state', 'state-1'],
        ['code_challenge', 'challenge-1'],
        ['code_challenge_method', 'S256'],
        ['access_type', 'offline'],
        ['prompt', 'consent'],
        ['include_granted_scopes', 'true'],
        ['login_hint', 'alice@example.com'],
      ]);
    });

    it('sends no login_hint when none is given', () => {
      const url = new URL(engine().authorizeUrl(gmailApp(), 'state-1', 'challenge-1'));
      expect(url.searchParams.has('login_hint')).toBe(false);
      expect(url.searchParams.get('state')).toBe('state-1');
    });

    it("asks for the connection's own scopes instead of the defaults, each once, with the identity scope", () => {
      const app = gmailApp({ scopes: [GMAIL_READONLY, USERINFO_EMAIL, GMAIL_READONLY] });
      const client = engine();
      expect(client.requestedScopes(app)).toEqual([GMAIL_READONLY, USERINFO_EMAIL]);
      expect(new URL(client.authorizeUrl(app, 's', 'c')).searchParams.get('scope')).toBe(
        `${GMAIL_READONLY} ${USERINFO_EMAIL}`,
      );
    });

    it("asks for the provider's default scopes alone when it needs no identity scope", () => {
      const client = engine();
      const app = { ...gmailApp(), provider: 'plain' };
      expect(client.requestedScopes(app)).toEqual(['read']);
      const url = new URL(client.authorizeUrl(app, 'state-2', 'challenge-2'));
      expect(`${url.origin}${url.pathname}`).toBe(`${provider.url}/authorize`);
      expect([...url.searchParams]).toEqual([
        ['response_type', 'code'],
        ['client_id', 'gmail-client.apps.example'],
        ['redirect_uri', CALLBACK],
        ['scope', 'read'],
        ['state', 'state-2'],
        ['code_challenge', 'challenge-2'],
        ['code_challenge_method', 'S256'],
      ]);
    });

    it("joins scopes with the provider's separator under its parameter, keeps the endpoint's query, and sends no challenge without PKCE", () => {
      const url = new URL(engine().authorizeUrl(quillApp(), 'state-3', 'challenge-3', 'bob'));
      expect(`${url.origin}${url.pathname}`).toBe(`${provider.url}/oauth/authorize`);
      expect([...url.searchParams]).toEqual([
        ['tenant', 'acme'],
        ['response_type', 'code'],
        ['client_id', 'quill-client'],
        ['redirect_uri', CALLBACK],
        ['user_scope', 'notes.read,notes.write,identity.basic'],
        ['state', 'state-3'],
        ['login_hint', 'bob'],
      ]);
    });

    it("sends a connection that targets the provider to the provider's own endpoint", () => {
      const client = engine();
      const url = new URL(client.authorizeUrl(gmailApp({ target: 'provider' }), 's', 'c'));
      expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
      expect(client.resolveUrl(gmailApp({ target: 'provider' }), 'https://oauth2.googleapis.com/token?a=1')).toBe(
        'https://oauth2.googleapis.com/token?a=1',
      );
    });

    it("rewrites a sandbox connection's URL to the sandbox, keeping its path and query", () => {
      expect(engine().resolveUrl(gmailApp(), 'https://gmail.googleapis.com/gmail/v1/users/me/messages?q=a%20b')).toBe(
        `${provider.url}/gmail/v1/users/me/messages?q=a%20b`,
      );
    });

    it('refuses a sandbox connection for a provider the sandbox does not emulate, with failed_precondition', async () => {
      const client = engine();
      const app = { ...gmailApp(), provider: 'elsewhere' };
      const expected = {
        code: 'failed_precondition',
        message: 'the sandbox does not emulate Elsewhere: point the connection at the provider',
      };
      expect(() => client.authorizeUrl(app, 's', 'c')).toThrow(AppError);
      expect(await failureOf(Promise.resolve().then(() => client.authorizeUrl(app, 's', 'c')))).toMatchObject(expected);
      expect(await failureOf(client.refresh(app, REFRESH_TOKEN))).toMatchObject(expected);
      expect(provider.received).toEqual([]);
      // The provider itself is fine: a connection that targets it builds its URL.
      expect(new URL(client.authorizeUrl({ ...app, target: 'provider' }, 's', 'c')).origin).toBe(
        'https://plain.example',
      );
    });

    it('refuses a provider the catalog does not have, naming it', () => {
      const client = engine();
      let error: unknown;
      try {
        client.requestedScopes({ ...gmailApp(), provider: 'nope' });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ code: 'provider_error', message: 'unknown provider nope' });
    });

    it('sends the code back to the public URL', () => {
      expect(engine({ SWITCHBOARD_PUBLIC_URL: 'https://switchboard.example.com/' }).redirectUri()).toBe(
        'https://switchboard.example.com/oauth/callback',
      );
    });
  });

  describe('the code exchange and refresh', () => {
    const grant = {
      access_token: ACCESS_TOKEN,
      token_type: 'Bearer',
      refresh_token: REFRESH_TOKEN,
      expires_in: 3599,
      scope: `${GMAIL_MODIFY} ${USERINFO_EMAIL}`,
    };
    const callback = (fields: Record<string, string> = {}) =>
      new URLSearchParams({ code: 'code-abc', state: 'state-1', ...fields });

    it("posts the code, callback, verifier and the app's id and secret as a form, and reads the grant", async () => {
      provider.answer(json(200, grant));
      clock.advance(1234);
      const tokens = await engine().exchangeCode(gmailApp(), callback(), 'verifier-xyz');
      expect(tokens).toStrictEqual({
        accessToken: ACCESS_TOKEN,
        refreshToken: REFRESH_TOKEN,
        expiresAt: clock.now() + 3_599_000,
        scopes: [GMAIL_MODIFY, USERINFO_EMAIL],
        tokenType: 'bearer',
      });
      expect(tokens.expiresAt).toBe(Date.UTC(2026, 10, 24, 9, 0, 0) + 1234 + 3_599_000);
      expect(provider.received).toHaveLength(1);
      const [request] = provider.received;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/token');
      expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
      expect(request?.headers.authorization).toBeUndefined();
      expect(request?.form).toStrictEqual({
        grant_type: 'authorization_code',
        code: 'code-abc',
        redirect_uri: CALLBACK,
        code_verifier: 'verifier-xyz',
        client_id: 'gmail-client.apps.example',
        client_secret: CLIENT_SECRET,
      });
    });

    it('sends no client_secret for an app without one, nor for an empty one', async () => {
      provider.answer(json(200, grant));
      for (const secret of [undefined, '']) {
        await engine().exchangeCode(gmailApp({ clientSecret: () => secret }), callback(), 'verifier-xyz');
      }
      expect(provider.received.map((request) => request.form)).toStrictEqual([
        {
          grant_type: 'authorization_code',
          code: 'code-abc',
          redirect_uri: CALLBACK,
          code_verifier: 'verifier-xyz',
          client_id: 'gmail-client.apps.example',
        },
        {
          grant_type: 'authorization_code',
          code: 'code-abc',
          redirect_uri: CALLBACK,
          code_verifier: 'verifier-xyz',
          client_id: 'gmail-client.apps.example',
        },
      ]);
    });

    it("refreshes with the refresh token and the app's credentials, leaving unsaid what the answer did not say", async () => {
      provider.answer(json(200, { access_token: 'ya29.fresh', token_type: 'Bearer' }));
      const tokens = await engine().refresh(gmailApp(), REFRESH_TOKEN);
      expect(tokens).toStrictEqual({
        accessToken: 'ya29.fresh',
        refreshToken: undefined,
        expiresAt: undefined,
        scopes: undefined,
        tokenType: 'bearer',
      });
      expect(provider.received.map(({ method, path, form }) => ({ method, path, form }))).toStrictEqual([
        {
          method: 'POST',
          path: '/token',
          form: {
            grant_type: 'refresh_token',
            refresh_token: REFRESH_TOKEN,
            client_id: 'gmail-client.apps.example',
            client_secret: CLIENT_SECRET,
          },
        },
      ]);
    });

    it('refreshes an app without a secret with its id alone', async () => {
      provider.answer(json(200, grant));
      await engine().refresh(gmailApp({ clientSecret: () => undefined }), REFRESH_TOKEN);
      expect(provider.received[0]?.form).toStrictEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH_TOKEN,
        client_id: 'gmail-client.apps.example',
      });
    });

    it('counts an expires_in of 0 as expiring now, on the clock it was given', async () => {
      provider.answer(json(200, { ...grant, expires_in: 0 }));
      clock.advance(7);
      const tokens = await engine().refresh(gmailApp(), REFRESH_TOKEN);
      expect(tokens.expiresAt).toBe(Date.UTC(2026, 10, 24, 9, 0, 0) + 7);
    });

    it('splits granted scopes on any run of whitespace, dropping empty ones', async () => {
      provider.answer(json(200, { ...grant, scope: ` ${GMAIL_MODIFY}\t\t${USERINFO_EMAIL}\n openid  ` }));
      const tokens = await engine().refresh(gmailApp(), REFRESH_TOKEN);
      expect(tokens.scopes).toEqual([GMAIL_MODIFY, USERINFO_EMAIL, 'openid']);
    });

    it("reads a provider's own token answer through its hook, without PKCE, and splits scopes on its separator", async () => {
      provider.answer(
        json(200, {
          ok: true,
          token: 'q-access',
          kind: 'user',
          renew: 'q-renew',
          ttl: 43_200,
          granted: ' notes.read, notes.write,,',
        }),
      );
      const tokens = await engine().exchangeCode(quillApp(), callback(), 'verifier-xyz');
      expect(tokens).toStrictEqual({
        accessToken: 'q-access',
        refreshToken: 'q-renew',
        expiresAt: clock.now() + 43_200_000,
        scopes: ['notes.read', 'notes.write'],
        tokenType: 'user',
      });
      expect(hooks.tokenAnswers).toStrictEqual([
        {
          status: 200,
          body: {
            ok: true,
            token: 'q-access',
            kind: 'user',
            renew: 'q-renew',
            ttl: 43_200,
            granted: ' notes.read, notes.write,,',
          },
        },
      ]);
      expect(provider.received.map(({ path, form }) => ({ path, form }))).toStrictEqual([
        {
          path: '/oauth/token',
          form: {
            grant_type: 'authorization_code',
            code: 'code-abc',
            redirect_uri: CALLBACK,
            client_id: 'quill-client',
            client_secret: CLIENT_SECRET,
          },
        },
      ]);
    });

    it('refreshes through the hook too', async () => {
      provider.answer(json(200, { ok: true, token: 'q-access-2', kind: 'user' }));
      const tokens = await engine().refresh(quillApp(), 'q-renew');
      expect(tokens).toStrictEqual({
        accessToken: 'q-access-2',
        refreshToken: undefined,
        expiresAt: undefined,
        scopes: undefined,
        tokenType: 'user',
      });
      expect(provider.received[0]?.form).toStrictEqual({
        grant_type: 'refresh_token',
        refresh_token: 'q-renew',
        client_id: 'quill-client',
        client_secret: CLIENT_SECRET,
      });
    });

    it('hands the hook a body that is not JSON as its text, and an empty one as undefined', async () => {
      provider.answer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('not json');
      });
      await failureOf(engine().refresh(quillApp(), 'q-renew'));
      provider.answer((_request, response) => {
        response.writeHead(503);
        response.end();
      });
      await failureOf(engine().refresh(quillApp(), 'q-renew'));
      expect(hooks.tokenAnswers).toStrictEqual([
        { status: 200, body: 'not json' },
        { status: 503, body: undefined },
      ]);
    });

    it('takes an iss in the callback that names the provider, and refuses one that does not, before any token call', async () => {
      provider.answer(json(200, grant));
      const tokens = await engine().exchangeCode(gmailApp(), callback({ iss: provider.url }), 'verifier-xyz');
      expect(tokens.accessToken).toBe(ACCESS_TOKEN);
      const error = await failureOf(
        engine().exchangeCode(gmailApp(), callback({ iss: 'https://accounts.evil.example' }), 'verifier-xyz'),
      );
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        code: 'provider_error',
        message: `the provider's token response was not valid: unexpected "iss" (issuer) response parameter value`,
      });
      expect(provider.received).toHaveLength(1);
    });
  });

  describe('what a refusal or failure of the token endpoint means', () => {
    it('turns invalid_grant into a grant that needs a new consent, quoting the description', async () => {
      provider.answer(json(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }));
      const error = await failureOf(engine().refresh(gmailApp(), REFRESH_TOKEN));
      expect(error).toBeInstanceOf(GrantRevokedError);
      expect(error).toMatchObject({
        name: 'GrantRevokedError',
        code: 'account_expired',
        oauthError: 'invalid_grant',
        message: 'the provider refused the grant (invalid_grant: Token has been expired or revoked.)',
        providerStatus: undefined,
      });
    });

    it('turns unauthorized_client into the same, without a description when there is none', async () => {
      provider.answer(json(400, { error: 'unauthorized_client' }));
      const error = await failureOf(engine().exchangeCode(gmailApp(), new URLSearchParams({ code: 'c' }), 'v'));
      expect(error).toBeInstanceOf(GrantRevokedError);
      expect(error).toMatchObject({
        code: 'account_expired',
        oauthError: 'unauthorized_client',
        message: 'the provider refused the grant (unauthorized_client)',
      });
    });

    it("blames the app's credentials for invalid_client, with the provider's status", async () => {
      provider.answer(json(401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' }));
      const error = await failureOf(engine().refresh(gmailApp(), REFRESH_TOKEN));
      expect(error).not.toBeInstanceOf(GrantRevokedError);
      expect(error).toMatchObject({
        name: 'ProviderError',
        code: 'provider_error',
        message: 'the provider rejected the OAuth app credentials (invalid_client)',
        providerStatus: 401,
      });
    });

    it.each([
      [400, 'invalid_scope'],
      [499, 'temporarily_unavailable'],
    ])('answers any other refusal with status %i (%s) as provider_error, naming it', async (status, oauthError) => {
      provider.answer(json(status, { error: oauthError, error_description: 'details' }));
      const error = await failureOf(engine().refresh(gmailApp(), REFRESH_TOKEN));
      expect(error).not.toBeInstanceOf(GrantRevokedError);
      expect(error).toMatchObject({
        name: 'ProviderError',
        code: 'provider_error',
        message: `the provider's token endpoint answered ${oauthError}`,
        providerStatus: status,
      });
    });

    it.each([500, 503])(
      'answers a %i as provider_unavailable, whether or not its body is an OAuth refusal',
      async (status) => {
        // oauth4webapi reads refusals only from a 4xx; Google answers an outage with a 5xx page.
        const client = engine();
        provider.answer(json(status, { error: 'temporarily_unavailable' }));
        const refusal = await failureOf(client.refresh(gmailApp(), REFRESH_TOKEN));
        provider.answer((_request, response) => {
          response.writeHead(status, { 'content-type': 'text/html' });
          response.end('<html>Service Unavailable</html>');
        });
        const page = await failureOf(client.exchangeCode(gmailApp(), new URLSearchParams({ code: 'c' }), 'v'));
        for (const error of [refusal, page]) {
          expect(error).toBeInstanceOf(ProviderError);
          expect(error).toMatchObject({
            name: 'ProviderError',
            code: 'provider_unavailable',
            message: `the provider's token endpoint answered HTTP ${status}`,
            providerStatus: status,
          });
        }
      },
    );

    it.each([
      [400, 'provider_error'],
      [499, 'provider_error'],
      [500, 'provider_unavailable'],
      [502, 'provider_unavailable'],
    ])("maps any other refusal the provider's hook reads with status %i as %s", async (status, code) => {
      provider.answer(json(status, { ok: false, error: 'overloaded' }));
      expect(await failureOf(engine().refresh(quillApp(), 'r'))).toMatchObject({
        name: 'ProviderError',
        code,
        message: "the provider's token endpoint answered overloaded",
        providerStatus: status,
      });
    });

    it("maps a refusal the provider's hook reads the same way, with the answer's status", async () => {
      const client = engine();
      provider.answer(json(200, { ok: false, error: 'invalid_grant', detail: 'code spent' }));
      expect(await failureOf(client.exchangeCode(quillApp(), new URLSearchParams({ code: 'c' }), 'v'))).toMatchObject({
        name: 'GrantRevokedError',
        code: 'account_expired',
        message: 'the provider refused the grant (invalid_grant: code spent)',
      });
      provider.answer(json(200, { ok: false, error: 'invalid_client' }));
      expect(await failureOf(client.refresh(quillApp(), 'r'))).toMatchObject({
        code: 'provider_error',
        message: 'the provider rejected the OAuth app credentials (invalid_client)',
        providerStatus: 200,
      });
      // Refusals are the provider's word, not a failure to reach it: nothing is logged.
      expect(logged).toEqual([]);
    });

    it("fails with provider_error and the answer's status when the hook cannot read it", async () => {
      provider.answer(json(201, { ok: 'yes' }));
      const error = await failureOf(engine().refresh(quillApp(), 'r'));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        code: 'provider_error',
        message: "the provider's token response was not valid",
        providerStatus: 201,
      });
      expect(error.cause).toBeInstanceOf(z.ZodError);
      expect(logged).toEqual([]);
    });

    it('fails with provider_error, saying why, when a token answer is not what RFC 6749 says', async () => {
      provider.answer(json(200, { token_type: 'Bearer', expires_in: 10 }));
      const error = await failureOf(engine().refresh(gmailApp(), REFRESH_TOKEN));
      expect(error).toMatchObject({
        code: 'provider_error',
        message: `the provider's token response was not valid: "response" body "access_token" property must be a string`,
        providerStatus: undefined,
      });
      provider.answer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<html>maintenance</html>');
      });
      expect(await failureOf(engine().refresh(gmailApp(), REFRESH_TOKEN))).toMatchObject({
        code: 'provider_error',
        message: `the provider's token response was not valid: "response" content-type must be application/json`,
        providerStatus: undefined,
      });
    });

    it('gives up with provider_timeout once the configured timeout passes without an answer', async () => {
      provider.answer(() => undefined);
      const started = performance.now();
      const error = await failureOf(
        engine({ SWITCHBOARD_PROVIDER_TIMEOUT_MS: '100' }).refresh(gmailApp(), REFRESH_TOKEN),
      );
      expect(error).toMatchObject({
        code: 'provider_timeout',
        message: "the provider's token endpoint did not answer in time",
      });
      expect(performance.now() - started).toBeLessThan(900);
      expect(provider.received).toHaveLength(1);
    });

    it('counts a call aborted on the way as a timeout too', async () => {
      const controller = new AbortController();
      const aborting: typeof fetch = (input, init) => fetch(input, { ...init, signal: controller.signal });
      provider.answer(() => controller.abort());
      const error = await failureOf(engine({}, aborting).refresh(gmailApp(), REFRESH_TOKEN));
      expect(error).toMatchObject({
        code: 'provider_timeout',
        message: "the provider's token endpoint did not answer in time",
      });
    });

    it('fails with provider_unavailable when the endpoint cannot be reached, and logs why without any secret', async () => {
      const client = engine();
      await provider.close();
      const error = await failureOf(client.refresh(gmailApp(), REFRESH_TOKEN));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        code: 'provider_unavailable',
        message: "the provider's token endpoint could not be reached",
        providerStatus: undefined,
      });
      expect(error.cause).toBeInstanceOf(TypeError);
      expect(logLines()).toEqual([{ level: 40, reason: 'TypeError: fetch failed', msg: 'token endpoint call failed' }]);
      expect(logged.join('')).not.toContain(REFRESH_TOKEN);
      expect(logged.join('')).not.toContain(CLIENT_SECRET);
    });

    it('refuses plain HTTP for a connection that targets the provider, sending nothing', async () => {
      const direct: ProviderDefinition = {
        ...plain(),
        name: 'direct',
        oauth: { authorizationEndpoint: `${provider.url}/authorize`, tokenEndpoint: `${provider.url}/token` },
      };
      const client = new OAuthClient({
        config: loadConfig({ SWITCHBOARD_PUBLIC_URL: PUBLIC_URL }),
        catalog: createCatalog([direct]),
        fetch,
        logger: createLogger('silent'),
        clock,
      });
      provider.answer(json(200, { access_token: ACCESS_TOKEN, token_type: 'Bearer' }));
      const app = { ...gmailApp(), provider: 'direct', target: 'provider' as const };
      const error = await failureOf(client.refresh(app, REFRESH_TOKEN));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        code: 'provider_error',
        message: "the provider's token response was not valid: only requests to HTTPS are allowed",
        providerStatus: undefined,
      });
      expect(provider.received).toEqual([]);
    });
  });

  describe('the cap on what is read of a token answer', () => {
    const tooLarge = {
      name: 'AnswerTooLargeError',
      code: 'provider_error',
      message: `the authorization server's answer is larger than ${MAX_AUTH_ANSWER_BYTES} bytes, the most read of one`,
      details: { max_answer_bytes: MAX_AUTH_ANSWER_BYTES },
    };

    it('reads an answer of exactly the cap, declared or streamed', async () => {
      const body = paddedTokenAnswer(MAX_AUTH_ANSWER_BYTES);
      expect(Buffer.byteLength(body)).toBe(MAX_AUTH_ANSWER_BYTES);
      provider.answer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
        response.end(body);
      });
      expect((await engine().refresh(gmailApp(), REFRESH_TOKEN)).accessToken).toBe(ACCESS_TOKEN);
      provider.answer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(body.slice(0, 1000));
        response.end(body.slice(1000));
      });
      expect((await engine().refresh(gmailApp(), REFRESH_TOKEN)).accessToken).toBe(ACCESS_TOKEN);
    });

    it('refuses a declared length one byte over the cap with AnswerTooLargeError', async () => {
      provider.answer((_request, response) => {
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(MAX_AUTH_ANSWER_BYTES + 1),
        });
        response.write('{"access_token":"');
      });
      const error = await failureOf(engine().exchangeCode(gmailApp(), new URLSearchParams({ code: 'c' }), 'v'));
      expect(error).toBeInstanceOf(AnswerTooLargeError);
      expect(error).toMatchObject(tooLarge);
    });

    it('cuts off a streamed answer one byte over the cap with AnswerTooLargeError, through the strict reading and the hook', async () => {
      const body = paddedTokenAnswer(MAX_AUTH_ANSWER_BYTES + 1);
      provider.answer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(body.slice(0, 1000));
        response.end(body.slice(1000));
      });
      const strict = await failureOf(engine().refresh(gmailApp(), REFRESH_TOKEN));
      expect(strict).toBeInstanceOf(AnswerTooLargeError);
      expect(strict).toMatchObject(tooLarge);
      const hooked = await failureOf(engine().refresh(quillApp(), 'r'));
      expect(hooked).toBeInstanceOf(AnswerTooLargeError);
      expect(hooked).toMatchObject(tooLarge);
      expect(hooks.tokenAnswers).toEqual([]);
    });
  });

  describe('revocation', () => {
    it('posts the token and the app credentials to the RFC 7009 endpoint, and says it worked', async () => {
      provider.answer(json(200, {}));
      expect(await engine().revoke(gmailApp(), REFRESH_TOKEN)).toBe(true);
      expect(provider.received.map(({ method, path, form }) => ({ method, path, form }))).toStrictEqual([
        {
          method: 'POST',
          path: '/revoke',
          form: { token: REFRESH_TOKEN, client_id: 'gmail-client.apps.example', client_secret: CLIENT_SECRET },
        },
      ]);
    });

    it('sends only the client id for an app without a secret', async () => {
      provider.answer(json(200, {}));
      expect(await engine().revoke(gmailApp({ clientSecret: () => undefined }), ACCESS_TOKEN)).toBe(true);
      expect(provider.received[0]?.form).toStrictEqual({ token: ACCESS_TOKEN, client_id: 'gmail-client.apps.example' });
    });

    it('answers false and logs the refusal, without the token, when the provider refuses', async () => {
      provider.answer(json(400, { error: 'invalid_token', error_description: 'Token expired or revoked' }));
      expect(await engine().revoke(gmailApp(), REFRESH_TOKEN)).toBe(false);
      expect(logLines()).toEqual([
        { level: 40, provider: 'gmail', reason: '400 invalid_token', msg: 'token revocation failed' },
      ]);
      expect(logged.join('')).not.toContain(REFRESH_TOKEN);
      expect(logged.join('')).not.toContain(CLIENT_SECRET);
    });

    it('answers false and logs what went wrong for an answer that is no OAuth refusal', async () => {
      provider.answer((_request, response) => {
        response.writeHead(503, { 'content-type': 'text/plain' });
        response.end('down');
      });
      expect(await engine().revoke(gmailApp(), REFRESH_TOKEN)).toBe(false);
      expect(logLines()).toEqual([
        {
          level: 40,
          provider: 'gmail',
          reason:
            'OperationProcessingError: "response" is not a conform Revocation Endpoint response (unexpected HTTP status code)',
          msg: 'token revocation failed',
        },
      ]);
    });

    it('answers false when the endpoint cannot be reached', async () => {
      const client = engine();
      await provider.close();
      expect(await client.revoke(gmailApp(), REFRESH_TOKEN)).toBe(false);
      expect(logLines()).toEqual([
        { level: 40, provider: 'gmail', reason: 'TypeError: fetch failed', msg: 'token revocation failed' },
      ]);
    });

    it('answers false at once, calling nobody and logging nothing, for a provider without a revocation endpoint', async () => {
      expect(await engine().revoke({ ...gmailApp(), provider: 'plain' }, REFRESH_TOKEN)).toBe(false);
      expect(provider.received).toEqual([]);
      expect(logged).toEqual([]);
    });

    it("revokes through the provider's hook, handing it the sandbox endpoint, the token, the credentials and a bounded fetch", async () => {
      revokeBehaviour = async (request) => {
        const answer = await request.fetch(request.endpoint, {
          method: 'POST',
          body: new URLSearchParams({ token: request.token }),
          signal: request.signal,
        });
        hooks.revokeAnswers.push({ status: answer.status, statusText: answer.statusText });
        if (answer.status !== 204) throw new Error(`revocation answered ${answer.status}`);
      };
      provider.answer((_request, response) => {
        response.writeHead(204, 'Revoked Fine');
        response.end();
      });
      expect(await engine().revoke(quillApp(), 'q-access')).toBe(true);
      expect(hooks.revokes).toHaveLength(1);
      const [request] = hooks.revokes;
      expect(request).toMatchObject({
        endpoint: `${provider.url}/oauth/revoke?mode=all`,
        token: 'q-access',
        clientId: 'quill-client',
        clientSecret: CLIENT_SECRET,
      });
      expect(request?.signal).toBeInstanceOf(AbortSignal);
      expect(request?.signal.aborted).toBe(false);
      expect(hooks.revokeAnswers).toEqual([{ status: 204, statusText: 'Revoked Fine' }]);
      expect(provider.received.map(({ method, path, form }) => ({ method, path, form }))).toEqual([
        { method: 'POST', path: '/oauth/revoke?mode=all', form: { token: 'q-access' } },
      ]);

      // The fetch it was handed reads no answer over the cap.
      provider.answer((_request, response) => {
        response.writeHead(200, { 'content-length': String(MAX_AUTH_ANSWER_BYTES + 1) });
        response.write('{');
      });
      expect(await engine().revoke(quillApp(), 'q-access')).toBe(false);
      expect(logLines()).toEqual([
        {
          level: 40,
          provider: 'quill',
          reason: `AnswerTooLargeError: the authorization server's answer is larger than ${MAX_AUTH_ANSWER_BYTES} bytes, the most read of one`,
          msg: 'token revocation failed',
        },
      ]);
    });

    it('hands the hook an app without a secret as undefined, and a signal that fires at the configured timeout', async () => {
      revokeBehaviour = (request) =>
        new Promise((_done, fail) => request.signal.addEventListener('abort', () => fail(request.signal.reason)));
      const started = performance.now();
      const revoked = await engine({ SWITCHBOARD_PROVIDER_TIMEOUT_MS: '100' }).revoke(
        quillApp({ clientSecret: () => undefined }),
        'q-access',
      );
      expect(revoked).toBe(false);
      expect(performance.now() - started).toBeLessThan(900);
      expect(hooks.revokes[0]?.clientSecret).toBeUndefined();
      expect(logLines()).toEqual([
        {
          level: 40,
          provider: 'quill',
          reason: 'TimeoutError: The operation was aborted due to timeout',
          msg: 'token revocation failed',
        },
      ]);
    });

    it('answers false when the hook throws something that is not an Error', async () => {
      revokeBehaviour = async () => {
        throw 'refused';
      };
      expect(await engine().revoke(quillApp(), 'q-access')).toBe(false);
      expect(logLines()).toEqual([{ level: 40, provider: 'quill', reason: 'unknown', msg: 'token revocation failed' }]);
    });
  });

  describe('who consented', () => {
    it('reads the email and the subject from OpenID userinfo, sending the token as a bearer', async () => {
      provider.answer(json(200, { sub: '1077', email: 'alice@example.com', email_verified: true }));
      const client = engine();
      expect(await client.accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({
        account: 'alice@example.com',
        subject: '1077',
      });
      expect(await client.accountEmail(gmailApp(), ACCESS_TOKEN)).toBe('alice@example.com');
      expect(provider.received).toHaveLength(2);
      const [request] = provider.received;
      expect(request).toMatchObject({ method: 'GET', path: '/v1/userinfo', body: '' });
      expect(request?.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
      expect(request?.headers.accept).toBe('application/json');
    });

    it('takes the subject as the account when there is no email', async () => {
      provider.answer(json(200, { sub: '1077' }));
      expect(await engine().accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({
        account: '1077',
        subject: '1077',
      });
      provider.answer(json(200, { sub: '1078', email: null }));
      expect(await engine().accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({
        account: '1078',
        subject: '1078',
      });
    });

    it('knows nobody when userinfo names nobody or is not of its shape', async () => {
      provider.answer(json(200, { name: 'Alice' }));
      expect(await engine().accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({
        account: undefined,
        subject: undefined,
      });
      provider.answer(json(200, { sub: 1077, email: 'alice@example.com' }));
      expect(await engine().accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({
        account: undefined,
        subject: undefined,
      });
    });

    it("reads the account through the provider's hook, the subject from sub, else the account", async () => {
      const client = engine();
      provider.answer(json(200, { handle: 'q-alice', sub: 'Q1' }));
      expect(await client.accountIdentity(quillApp(), 'q-access')).toStrictEqual({ account: 'q-alice', subject: 'Q1' });
      provider.answer(json(200, { handle: 'q-bob' }));
      expect(await client.accountIdentity(quillApp(), 'q-access')).toStrictEqual({
        account: 'q-bob',
        subject: 'q-bob',
      });
      provider.answer(json(200, { handle: 'q-carol', email: 7 }));
      expect(await client.accountIdentity(quillApp(), 'q-access')).toStrictEqual({
        account: 'q-carol',
        subject: 'q-carol',
      });
      expect(hooks.identities).toEqual([
        { handle: 'q-alice', sub: 'Q1' },
        { handle: 'q-bob' },
        { handle: 'q-carol', email: 7 },
      ]);
      expect(provider.received.map(({ path }) => path)).toEqual(['/me', '/me', '/me']);
    });

    it('answers nothing, without throwing, for a refusal, an answer that is not JSON, or one over the cap', async () => {
      const client = engine();
      provider.answer(json(401, { sub: '1077', email: 'alice@example.com' }));
      expect(await client.accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({});
      provider.answer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"sub":');
      });
      expect(await client.accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({});
      const padded = JSON.stringify({
        sub: '1077',
        email: 'alice@example.com',
        pad: ' '.repeat(MAX_AUTH_ANSWER_BYTES),
      });
      provider.answer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(padded.slice(0, 1000));
        response.end(padded.slice(1000));
      });
      expect(await client.accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({});
      expect(await client.accountEmail(gmailApp(), ACCESS_TOKEN)).toBeUndefined();
      expect(provider.received).toHaveLength(4);
    });

    it('answers nothing when userinfo cannot be reached or does not answer in time', async () => {
      provider.answer(() => undefined);
      const started = performance.now();
      expect(
        await engine({ SWITCHBOARD_PROVIDER_TIMEOUT_MS: '100' }).accountIdentity(gmailApp(), ACCESS_TOKEN),
      ).toStrictEqual({});
      expect(performance.now() - started).toBeLessThan(900);
      const client = engine();
      await provider.close();
      expect(await client.accountIdentity(gmailApp(), ACCESS_TOKEN)).toStrictEqual({});
    });

    it('answers nothing, asking nobody, for a provider without userinfo', async () => {
      expect(await engine().accountIdentity({ ...gmailApp(), provider: 'plain' }, ACCESS_TOKEN)).toStrictEqual({});
      expect(provider.received).toEqual([]);
    });
  });
});

describe('OAuthClient against the in-process sandbox', () => {
  let sandbox: RunningSandbox;
  let clock: ManualClock;
  beforeEach(() => {
    clock = manualClock();
    sandbox = inProcessSandbox({ clock });
  });
  afterEach(() => sandbox?.close());

  it('connects a Gmail account end to end: consent, code, identity, refresh, revoke, and a refused refresh after', async () => {
    const client = new OAuthClient({
      config: loadConfig({ SWITCHBOARD_PUBLIC_URL: PUBLIC_URL, SWITCHBOARD_SANDBOX_URL: sandbox.url }),
      catalog: createCatalog(),
      fetch: sandbox.fetch,
      logger: createLogger('silent'),
      clock,
    });
    const app = gmailApp({ clientId: 'rules-client', clientSecret: () => 'rules-secret' });
    const consent = new URL(
      client.authorizeUrl(app, 'state-9', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'mei.tanaka@example.com'),
    );
    consent.searchParams.set('sandbox_auto_consent', 'allow');
    const decided = await sandbox.fetch(consent, { redirect: 'manual' });
    expect(decided.status).toBe(302);
    const back = new URL(decided.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get('state')).toBe('state-9');

    // The verifier whose S256 challenge is above (RFC 7636 appendix B).
    const tokens = await client.exchangeCode(app, back.searchParams, 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    expect(tokens.expiresAt).toBe(clock.now() + 3_599_000);
    expect(tokens.scopes).toEqual([GMAIL_MODIFY, GMAIL_SETTINGS, USERINFO_EMAIL]);
    expect(await client.accountEmail(app, tokens.accessToken)).toBe('mei.tanaka@example.com');

    clock.advance(3_600_000);
    const refreshed = await client.refresh(app, tokens.refreshToken ?? '');
    expect(refreshed.expiresAt).toBe(clock.now() + 3_599_000);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);

    expect(await client.revoke(app, tokens.refreshToken ?? '')).toBe(true);
    const error = await failureOf(client.refresh(app, tokens.refreshToken ?? ''));
    expect(error).toBeInstanceOf(GrantRevokedError);
    expect(error).toMatchObject({ code: 'account_expired', oauthError: 'invalid_grant' });
    expect(sandbox.state.readCounters()).toMatchObject({
      tokenCalls: { authorization_code: 1, refresh_token: 2 },
      revocations: 1,
    });
  });
});
