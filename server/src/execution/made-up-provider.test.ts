import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../config.js';
import { AppError, ProviderError } from '../errors.js';
import { createLogger } from '../logger.js';
import { type OAuthApp, OAuthClient } from '../oauth/client.js';
import { createCatalog } from '../providers/index.js';
import type {
  ErrorClassifier,
  ProviderAnswer,
  ProviderDefinition,
  ProviderFailure,
  ProviderFailureCode,
  TokenResponse,
} from '../providers/types.js';
import { createProviderClient } from './provider-client.js';

/**
 * Chirp is made up, with Slack's habits: every API answer is HTTP 200 and failures say
 * `{ok: false, error}`, scopes are comma separated, the user's token sits under `authed_user`,
 * and the token endpoint refuses PKCE. Its hooks are written here the way a provider folder
 * would write them; the engine under test is the real one, talking HTTP to a local server.
 */

const CHIRP_ERRORS: Record<string, ProviderFailureCode> = {
  invalid_auth: 'provider_unauthorized',
  missing_scope: 'insufficient_scope',
  channel_not_found: 'provider_not_found',
  ratelimited: 'provider_rate_limited',
};

const chirpFailure = z.object({ ok: z.literal(false), error: z.string() });

function classifyChirpError({ body }: ProviderAnswer): ProviderFailure | undefined {
  const failed = chirpFailure.safeParse(body);
  if (!failed.success) return undefined;
  return {
    code: CHIRP_ERRORS[failed.data.error] ?? 'provider_bad_request',
    message: `Chirp said ${failed.data.error}`,
  };
}

const chirpToken = z.union([
  z.object({
    ok: z.literal(true),
    authed_user: z.object({
      access_token: z.string(),
      token_type: z.string(),
      scope: z.string().optional(),
      refresh_token: z.string().optional(),
      expires_in: z.number().optional(),
    }),
  }),
  chirpFailure,
]);

function readChirpToken({ body }: ProviderAnswer): TokenResponse {
  const answer = chirpToken.parse(body);
  if (!answer.ok) {
    const revoked = answer.error === 'invalid_code' || answer.error === 'invalid_refresh_token';
    return { ok: false, error: revoked ? 'invalid_grant' : answer.error };
  }
  const user = answer.authed_user;
  return {
    ok: true,
    accessToken: user.access_token,
    tokenType: user.token_type,
    refreshToken: user.refresh_token,
    expiresIn: user.expires_in,
    scope: user.scope,
  };
}

const chirp: ProviderDefinition = {
  name: 'chirp',
  displayName: 'Chirp',
  description: 'A made-up chat provider with Slack-like quirks.',
  icon: '',
  oauth: {
    authorizationEndpoint: 'https://chirp.example/oauth/authorize',
    tokenEndpoint: 'https://chirp.example/api/oauth.access',
    userinfoEndpoint: 'https://chirp.example/api/auth.test',
    scopeSeparator: ',',
    pkce: false,
    readTokenResponse: readChirpToken,
    readIdentity: (body) => z.object({ user_id: z.string() }).safeParse(body).data?.user_id,
  },
  errors: classifyChirpError,
  // The local server below stands in for Chirp at the sandbox URL.
  sandbox: true,
  defaultScopes: ['messages:read', 'messages:write'],
  apiOrigins: ['https://chirp.example'],
  tools: [],
};

const NOW = Date.parse('2026-03-02T15:00:00Z');

interface Seen {
  method: string;
  path: string;
  auth: string | undefined;
  form: URLSearchParams;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Chirp's answers, by path: always HTTP 200, as Slack does. */
function chirpAnswer(path: string, form: URLSearchParams, auth: string | undefined): unknown {
  switch (path) {
    case '/api/oauth.access': {
      const code = form.get('code');
      if (code === 'spent-code' || form.get('refresh_token') === 'revoked') return { ok: false, error: 'invalid_code' };
      const refreshed = form.get('grant_type') === 'refresh_token';
      return {
        ok: true,
        app_id: 'A1',
        authed_user: {
          id: 'U1',
          scope: 'messages:read,messages:write',
          access_token: refreshed ? 'user-token-2' : 'user-token-1',
          token_type: 'user',
          refresh_token: 'refresh-1',
          expires_in: 43_200,
        },
      };
    }
    case '/api/auth.test':
      return auth === 'Bearer user-token-1' ? { ok: true, user_id: 'U1', team_id: 'T1' } : { ok: false };
    case '/api/messages.list':
      return { ok: true, messages: [{ text: 'hello' }] };
    case '/api/messages.post':
      return { ok: false, error: 'channel_not_found' };
    case '/api/files.upload':
      return { ok: false, error: 'missing_scope', needed: 'files:write' };
    case '/api/users.profile':
      return auth === 'Bearer fresh-token' ? { ok: true, profile: {} } : { ok: false, error: 'invalid_auth' };
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

describe('a made-up provider that fails with HTTP 200 {ok:false} and joins scopes with commas', () => {
  const seen: Seen[] = [];
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const form = new URLSearchParams(await readBody(request));
      const auth = request.headers.authorization;
      seen.push({ method: request.method ?? '', path: url.pathname, auth, form });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(chirpAnswer(url.pathname, form, auth)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (tokens: string[], { errors }: { errors?: ErrorClassifier } = chirp) => {
    let calls = 0;
    const api = createProviderClient({
      fetch,
      apiOrigins: chirp.apiOrigins,
      classifyError: errors,
      sandboxBaseUrl: base,
      timeoutMs: 2_000,
      clock: { now: () => NOW },
      sleep: async () => undefined,
      getAccessToken: async () => tokens[Math.min(calls++, tokens.length - 1)] ?? '',
    });
    return { api, calls: () => calls };
  };

  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (error: unknown) => error as ProviderError,
    );

  it('returns the body of an {ok:true} answer', async () => {
    const { api } = client(['t']);
    await expect(api.request({ url: 'https://chirp.example/api/messages.list' })).resolves.toEqual({
      ok: true,
      messages: [{ text: 'hello' }],
    });
  });

  it('turns an HTTP 200 {ok:false} into a ProviderError with the code its error hook gives', async () => {
    const { api } = client(['t']);
    const error = await failureOf(api.request({ method: 'POST', url: 'https://chirp.example/api/messages.post' }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_not_found', providerStatus: 200 });
    expect(error.message).toBe('Chirp said channel_not_found');

    const scope = await failureOf(api.request({ method: 'POST', url: 'https://chirp.example/api/files.upload' }));
    expect(scope.code).toBe('insufficient_scope');
  });

  it('asks for a fresh token once when the hook reads the 200 as unauthorized', async () => {
    const { api, calls } = client(['stale-token', 'fresh-token']);
    await expect(api.request({ url: 'https://chirp.example/api/users.profile' })).resolves.toEqual({
      ok: true,
      profile: {},
    });
    expect(calls()).toBe(2);
    expect(seen.slice(-2).map((s) => s.auth)).toEqual(['Bearer stale-token', 'Bearer fresh-token']);
  });

  it('would pass the {ok:false} answer to the agent as a success without the hook', async () => {
    const { api } = client(['t'], {});
    await expect(api.request({ method: 'POST', url: 'https://chirp.example/api/messages.post' })).resolves.toEqual({
      ok: false,
      error: 'channel_not_found',
    });
  });

  describe('through the OAuth engine', () => {
    const engine = () =>
      new OAuthClient({
        config: loadConfig({ SWITCHBOARD_PUBLIC_URL: 'http://localhost:3000', SWITCHBOARD_SANDBOX_URL: base }),
        catalog: createCatalog([chirp]),
        fetch,
        logger: createLogger('silent'),
        clock: { now: () => NOW },
      });
    const app: OAuthApp = {
      provider: 'chirp',
      target: 'sandbox',
      clientId: 'chirp-client',
      clientSecret: () => 'chirp-secret',
      scopes: [],
    };

    it('builds the authorize URL with comma-separated scopes and no PKCE challenge', () => {
      const url = new URL(engine().authorizeUrl(app, 'state-1', 'challenge-1'));
      expect(`${url.origin}${url.pathname}`).toBe(`${base}/oauth/authorize`);
      expect(url.searchParams.get('scope')).toBe('messages:read,messages:write');
      expect(url.searchParams.get('client_id')).toBe('chirp-client');
      expect(url.searchParams.get('state')).toBe('state-1');
      expect(url.searchParams.has('code_challenge')).toBe(false);
      expect(url.searchParams.has('code_challenge_method')).toBe(false);
    });

    it('reads the token under authed_user through the hook and splits the granted scopes on commas', async () => {
      const tokens = await engine().exchangeCode(app, new URLSearchParams({ code: 'code-1', state: 'state-1' }), 'v');
      expect(tokens).toEqual({
        accessToken: 'user-token-1',
        refreshToken: 'refresh-1',
        expiresAt: NOW + 43_200_000,
        scopes: ['messages:read', 'messages:write'],
        tokenType: 'user',
      });
      const exchange = seen.at(-1);
      expect(exchange?.path).toBe('/api/oauth.access');
      expect(exchange?.form.get('grant_type')).toBe('authorization_code');
      expect(exchange?.form.get('client_secret')).toBe('chirp-secret');
      expect(exchange?.form.has('code_verifier')).toBe(false);
    });

    it('refreshes through the same hook', async () => {
      const tokens = await engine().refresh(app, 'refresh-1');
      expect(tokens.accessToken).toBe('user-token-2');
      expect(seen.at(-1)?.form.get('grant_type')).toBe('refresh_token');
    });

    it('treats a refusal the hook reads as invalid_grant as a grant that needs a new consent', async () => {
      const error = await failureOf(
        engine().exchangeCode(app, new URLSearchParams({ code: 'spent-code', state: 'state-1' }), 'v'),
      );
      expect(error).toMatchObject({ name: 'GrantRevokedError', code: 'account_expired' });
    });

    it('reads the connected account from the identity endpoint through the hook', async () => {
      await expect(engine().accountEmail(app, 'user-token-1')).resolves.toBe('U1');
    });

    it('refuses a sandbox connection for a provider the sandbox does not emulate', () => {
      const uncovered = { ...chirp, name: 'elsewhere', sandbox: undefined };
      const client = new OAuthClient({
        config: loadConfig({ SWITCHBOARD_SANDBOX_URL: base }),
        catalog: createCatalog([uncovered]),
        fetch,
        logger: createLogger('silent'),
        clock: { now: () => NOW },
      });
      let error: unknown;
      try {
        client.authorizeUrl({ ...app, provider: 'elsewhere' }, 's', 'c');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'failed_precondition' });
    });
  });
});
