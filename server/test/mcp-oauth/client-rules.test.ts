import { randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { hashSecret } from '../../src/crypto/random.js';
import { ensureSelfSignedCertificate } from '../../src/listener/self-signed.js';
import { MAX_METADATA_DOCUMENT_BYTES, McpOAuthClients, type OAuthClientInfo } from '../../src/mcp-auth/clients.js';
import { SafeDocumentFetcher } from '../../src/mcp-auth/document-fetcher.js';
import { OAuthError } from '../../src/mcp-auth/oauth-error.js';
import { OidcUpstream } from '../../src/mcp-auth/oidc-upstream.js';
import { type ManualClock, manualClock } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type LoopbackServer, serveOnLoopback } from '../support/loopback.js';
import { inProcessSandbox, type RunningSandbox } from '../support/sandbox.js';
import { tempDir } from '../support/temp-dir.js';
import { pkce } from './pkce.js';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const MINUTE = 60_000;
const PUBLIC_URL = 'http://localhost:4321';
const CALLBACK = `${PUBLIC_URL}/mcp-oauth/oidc/callback`;
const LOGIN_CLIENT = 'switchboard-mcp-login';

/** The code and description of the OAuthError `pending` rejects with (fails when it does not). */
async function refusal(pending: Promise<unknown>): Promise<{ code: string; description: string }> {
  const error = await pending.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(OAuthError);
  const { code, description } = error as OAuthError;
  return { code, description };
}

/** The same for a call that throws at once. */
function thrownBy(call: () => unknown): { code: string; description: string } | undefined {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    const { code, description } = error as OAuthError;
    return { code, description };
  }
  return undefined;
}

/**
 * Who may be an MCP OAuth client, called directly on a real database: RFC 7591 registration and
 * its bounds, Client ID Metadata Documents fetched from a real loopback server, the secrets and
 * how a client authenticates at the token endpoint.
 */
describe('MCP OAuth clients', () => {
  let database: TestDatabase;
  let documents: LoopbackServer;
  /** Each metadata document the loopback server answered, by path. */
  const served: string[] = [];
  /** What the loopback server answers for a path (default: a valid document naming its own URL). */
  let answer: (url: string) => Response = (url) => Response.json(documentFor(url));

  function documentFor(url: string, fields: Record<string, unknown> = {}) {
    return { client_id: url, client_name: 'Doc client', redirect_uris: [REDIRECT_URI], ...fields };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    documents = await serveOnLoopback((request) => {
      const { pathname, search } = new URL(request.url);
      served.push(pathname);
      return answer(`${documents.url}${pathname}${search}`);
    });
  });
  afterAll(async () => {
    await documents?.close();
    await database?.close();
  });
  beforeEach(() => {
    served.length = 0;
    answer = (url) => Response.json(documentFor(url));
  });

  function clientsWith(env: Record<string, string> = {}, clock: ManualClock = manualClock()) {
    const config = loadConfig({ SWITCHBOARD_MCP_OAUTH_TEST_LOOPBACK_METADATA: 'true', ...env });
    return new McpOAuthClients({
      db: database.db,
      clock,
      config,
      documents: new SafeDocumentFetcher({
        timeoutMs: 2_000,
        // As services.ts wires it.
        maxBytes: MAX_METADATA_DOCUMENT_BYTES,
        allowLoopback: config.mcpOAuth.loopbackMetadataForTests,
      }),
    });
  }

  describe('registration (RFC 7591)', () => {
    it('stores a confidential client with its secret hashed, and shows the secret once', async () => {
      // 999 ms into a second: client_id_issued_at is rounded down.
      const clock = manualClock(Date.UTC(2026, 10, 24, 9, 0, 0) + 999);
      const clients = clientsWith({}, clock);
      const answer = await clients.register({
        redirect_uris: [REDIRECT_URI, 'https://app.example/cb'],
        client_name: 'Claude',
        logo_uri: 'https://app.example/logo.png',
        client_uri: 'https://app.example/',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'mcp',
        software_statement: 'kept out',
      });
      const clientId = answer.client_id as string;
      const secret = answer.client_secret as string;
      expect(clientId).toMatch(/^mcpc_[A-Za-z0-9_-]{24}$/);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(answer).toEqual({
        client_id: clientId,
        client_secret: secret,
        client_secret_expires_at: 0,
        client_id_issued_at: Math.floor(Date.UTC(2026, 10, 24, 9, 0, 0) / 1000),
        client_name: 'Claude',
        redirect_uris: [REDIRECT_URI, 'https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        logo_uri: 'https://app.example/logo.png',
        client_uri: 'https://app.example/',
      });
      const row = await database.db
        .selectFrom('mcp_oauth_clients')
        .selectAll()
        .where('client_id', '=', clientId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        client_id: clientId,
        client_name: 'Claude',
        redirect_uris: JSON.stringify([REDIRECT_URI, 'https://app.example/cb']),
        token_endpoint_auth_method: 'client_secret_basic',
        secret_hash: hashSecret(secret),
        logo_uri: 'https://app.example/logo.png',
        client_uri: 'https://app.example/',
        created_at: '2026-11-24T09:00:00.999Z',
      });
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(await clients.resolve(clientId)).toEqual({
        clientId,
        name: 'Claude',
        logoUri: 'https://app.example/logo.png',
        redirectUris: [REDIRECT_URI, 'https://app.example/cb'],
        authMethod: 'client_secret_basic',
        secretHash: hashSecret(secret),
        kind: 'registered',
      });
    });

    it('gives a public client no secret, and a client without a name or grants the defaults', async () => {
      const clients = clientsWith();
      const answer = await clients.register({
        redirect_uris: ['cursor://callback'],
        token_endpoint_auth_method: 'none',
      });
      const clientId = answer.client_id as string;
      expect(answer).toEqual({
        client_id: clientId,
        client_id_issued_at: Math.floor(Date.UTC(2026, 10, 24, 9, 0, 0) / 1000),
        client_name: 'Unnamed MCP client',
        redirect_uris: ['cursor://callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      });
      const row = await database.db
        .selectFrom('mcp_oauth_clients')
        .selectAll()
        .where('client_id', '=', clientId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ secret_hash: null, logo_uri: null, client_uri: null });
      expect(await clients.resolve(clientId)).toEqual({
        clientId,
        name: 'Unnamed MCP client',
        logoUri: undefined,
        redirectUris: ['cursor://callback'],
        authMethod: 'none',
        secretHash: undefined,
        kind: 'registered',
      });
    });

    it('gives client_secret_post a secret too, and a new client_id each time', async () => {
      const clients = clientsWith();
      const body = { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_post' };
      const first = await clients.register(body);
      const second = await clients.register(body);
      expect(first.client_id).not.toBe(second.client_id);
      expect(first.client_secret).not.toBe(second.client_secret);
      expect(first).toMatchObject({ token_endpoint_auth_method: 'client_secret_post', client_secret_expires_at: 0 });
      const found = await clients.resolve(first.client_id as string);
      expect(found.secretHash).toBe(hashSecret(first.client_secret as string));
    });

    it('refuses registration when it is turned off', async () => {
      const clients = clientsWith({ SWITCHBOARD_MCP_OAUTH_REGISTRATION: 'false' });
      expect(await refusal(clients.register({ redirect_uris: [REDIRECT_URI] }))).toEqual({
        code: 'invalid_request',
        description: 'dynamic client registration is turned off on this server',
      });
    });

    it('takes each field up to its bound and refuses one more, naming the field', async () => {
      const clients = clientsWith();
      const https = (length: number) => {
        const base = 'https://app.example/';
        return base + 'a'.repeat(length - base.length);
      };
      const many = (count: number, value: string) => Array.from({ length: count }, () => value);
      const accepted: Record<string, unknown>[] = [
        { redirect_uris: many(20, REDIRECT_URI) },
        { redirect_uris: [https(2000)] },
        { redirect_uris: [REDIRECT_URI], client_name: 'n' },
        { redirect_uris: [REDIRECT_URI], client_name: 'n'.repeat(200) },
        { redirect_uris: [REDIRECT_URI], grant_types: many(10, 'authorization_code') },
        { redirect_uris: [REDIRECT_URI], response_types: many(10, 'code') },
        { redirect_uris: [REDIRECT_URI], logo_uri: https(2000), client_uri: https(2000) },
        { redirect_uris: [REDIRECT_URI], scope: 's'.repeat(1000) },
      ];
      for (const body of accepted) {
        await expect(clients.register(body), JSON.stringify(body).slice(0, 80)).resolves.toHaveProperty('client_id');
      }
      const refused: [Record<string, unknown>, string][] = [
        [{}, 'redirect_uris: Invalid input: expected array, received undefined'],
        [{ redirect_uris: [] }, 'redirect_uris: Too small: expected array to have >=1 items'],
        [{ redirect_uris: many(21, REDIRECT_URI) }, 'redirect_uris: Too big: expected array to have <=20 items'],
        [{ redirect_uris: [https(2001)] }, 'redirect_uris.0: Too big: expected string to have <=2000 characters'],
        [{ redirect_uris: [REDIRECT_URI, 7] }, 'redirect_uris.1: Invalid input: expected string, received number'],
        [
          { redirect_uris: [REDIRECT_URI], client_name: '' },
          'client_name: Too small: expected string to have >=1 characters',
        ],
        [
          { redirect_uris: [REDIRECT_URI], client_name: 'n'.repeat(201) },
          'client_name: Too big: expected string to have <=200 characters',
        ],
        [
          { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'private_key_jwt' },
          'token_endpoint_auth_method: Invalid option: expected one of "none"|"client_secret_basic"|"client_secret_post"',
        ],
        [
          { redirect_uris: [REDIRECT_URI], grant_types: many(11, 'authorization_code') },
          'grant_types: Too big: expected array to have <=10 items',
        ],
        [
          { redirect_uris: [REDIRECT_URI], response_types: many(11, 'code') },
          'response_types: Too big: expected array to have <=10 items',
        ],
        [{ redirect_uris: [REDIRECT_URI], logo_uri: 'http://app.example/logo.png' }, 'logo_uri: Invalid URL'],
        [{ redirect_uris: [REDIRECT_URI], client_uri: 'http://app.example/' }, 'client_uri: Invalid URL'],
        [{ redirect_uris: [REDIRECT_URI], logo_uri: 'xhttps://app.example/logo.png' }, 'logo_uri: Invalid URL'],
        [{ redirect_uris: [REDIRECT_URI], client_uri: 'httpsx://app.example/' }, 'client_uri: Invalid URL'],
        [
          { redirect_uris: [REDIRECT_URI], logo_uri: https(2001) },
          'logo_uri: Too big: expected string to have <=2000 characters',
        ],
        [
          { redirect_uris: [REDIRECT_URI], client_uri: https(2001) },
          'client_uri: Too big: expected string to have <=2000 characters',
        ],
        [
          { redirect_uris: [REDIRECT_URI], scope: 's'.repeat(1001) },
          'scope: Too big: expected string to have <=1000 characters',
        ],
        [
          { redirect_uris: [], client_name: '' },
          'redirect_uris: Too small: expected array to have >=1 items; client_name: Too small: expected string to have >=1 characters',
        ],
      ];
      for (const [body, description] of refused) {
        expect(await refusal(clients.register(body)), description).toEqual({
          code: 'invalid_client_metadata',
          description,
        });
      }
      for (const body of [null, 'redirect_uris', [REDIRECT_URI]]) {
        expect((await refusal(clients.register(body))).description, String(body)).toMatch(
          /^\(metadata\): Invalid input: expected object, received /,
        );
      }
    });

    it('refuses a redirect URI that is not https, loopback http or a private-use scheme, naming the first', async () => {
      const clients = clientsWith();
      for (const bad of ['http://app.example/cb', 'javascript:alert(1)', 'https://app.example/cb#frag', 'not a url']) {
        expect(await refusal(clients.register({ redirect_uris: [REDIRECT_URI, bad, 'file:///etc/passwd'] }))).toEqual({
          code: 'invalid_redirect_uri',
          description: `redirect_uris: ${bad} is not allowed (https, http on loopback, or a private-use scheme)`,
        });
      }
    });

    it('takes only the authorization_code grant, with refresh_token beside it, and only the code response type', async () => {
      const clients = clientsWith();
      const grants = 'grant_types: only authorization_code and refresh_token are supported';
      for (const grant_types of [['refresh_token'], ['authorization_code', 'implicit'], ['client_credentials'], []]) {
        expect(
          await refusal(clients.register({ redirect_uris: [REDIRECT_URI], grant_types })),
          String(grant_types),
        ).toEqual({ code: 'invalid_client_metadata', description: grants });
      }
      for (const response_types of [['token'], ['code', 'token'], ['id_token']]) {
        expect(await refusal(clients.register({ redirect_uris: [REDIRECT_URI], response_types }))).toEqual({
          code: 'invalid_client_metadata',
          description: 'response_types: only code is supported',
        });
      }
      const answer = await clients.register({
        redirect_uris: [REDIRECT_URI],
        grant_types: ['refresh_token', 'authorization_code'],
        response_types: [],
      });
      expect(answer).toMatchObject({ grant_types: ['refresh_token', 'authorization_code'], response_types: ['code'] });
    });
  });

  describe('resolving a client_id', () => {
    it('refuses an empty or too long client_id, and one nobody registered', async () => {
      const clients = clientsWith();
      for (const clientId of ['', `mcpc_${'a'.repeat(1996)}`]) {
        expect(await refusal(clients.resolve(clientId)), String(clientId.length)).toEqual({
          code: 'invalid_client',
          description: 'client_id is missing or too long',
        });
      }
      for (const clientId of [`mcpc_${'a'.repeat(1995)}`, 'mcpc_unknown', 'http://example.com/client']) {
        expect(await refusal(clients.resolve(clientId))).toEqual({
          code: 'invalid_client',
          description: 'this client_id is not registered here',
        });
      }
    });

    it('takes https client_ids as metadata documents, and loopback http ones only in tests', () => {
      const inTests = clientsWith();
      const otherwise = clientsWith({ SWITCHBOARD_MCP_OAUTH_TEST_LOOPBACK_METADATA: 'false' });
      for (const url of ['https://app.example/client.json', 'https://127.0.0.1/client']) {
        expect(inTests.isMetadataUrl(url), url).toBe(true);
        expect(otherwise.isMetadataUrl(url), url).toBe(true);
      }
      for (const url of ['http://127.0.0.1:8/client', 'http://localhost/client', 'http://[::1]:8/client']) {
        expect(inTests.isMetadataUrl(url), url).toBe(true);
        expect(otherwise.isMetadataUrl(url), url).toBe(false);
      }
      for (const clientId of ['http://app.example/client', 'http://[zz/client', 'mcpc_abc', 'ftp://127.0.0.1/c']) {
        expect(inTests.isMetadataUrl(clientId), clientId).toBe(false);
      }
    });
  });

  describe('client authentication at the token endpoint', () => {
    it('lets a public client in only without a secret', async () => {
      const clients = clientsWith();
      const client = await clients.resolve(
        (await clients.register({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }))
          .client_id as string,
      );
      expect(thrownBy(() => clients.authenticate(client, { method: 'none' }))).toBeUndefined();
      expect(thrownBy(() => clients.authenticate(client, { method: 'none', secret: '' }))).toBeUndefined();
      for (const method of ['basic', 'post', 'none'] as const) {
        expect(thrownBy(() => clients.authenticate(client, { method, secret: 'anything' }))).toEqual({
          code: 'invalid_client',
          description: 'this client is public and has no secret',
        });
      }
    });

    it.each([
      ['client_secret_basic', 'basic', 'post'],
      ['client_secret_post', 'post', 'basic'],
    ] as const)('lets a %s client in only with its secret, sent its way', async (authMethod, own, other) => {
      const clients = clientsWith();
      const registered = await clients.register({
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: authMethod,
      });
      const client = await clients.resolve(registered.client_id as string);
      const secret = registered.client_secret as string;
      expect(thrownBy(() => clients.authenticate(client, { method: own, secret }))).toBeUndefined();
      const refused = { code: 'invalid_client', description: `authenticate the client with ${authMethod}` };
      const attempts: [OAuthClientInfo, { secret?: string; method: 'basic' | 'post' | 'none' }][] = [
        [client, { method: other, secret }],
        [client, { method: 'none', secret }],
        [client, { method: own, secret: `${secret}x` }],
        [client, { method: own, secret: secret.slice(1) }],
        [client, { method: own, secret: '' }],
        [client, { method: own }],
        [
          { ...client, secretHash: undefined },
          { method: own, secret },
        ],
        [
          { ...client, secretHash: '' },
          { method: own, secret },
        ],
      ];
      for (const [who, presented] of attempts) {
        expect(
          thrownBy(() => clients.authenticate(who, presented)),
          JSON.stringify(presented),
        ).toEqual(refused);
      }
    });
  });

  describe('Client ID Metadata Documents', () => {
    it('takes a document that names its own URL, as a public client named by it or by its host', async () => {
      const clients = clientsWith();
      const url = `${documents.url}/clients/named.json`;
      expect(await clients.resolve(url)).toEqual({
        clientId: url,
        name: 'Doc client',
        logoUri: undefined,
        redirectUris: [REDIRECT_URI],
        authMethod: 'none',
        secretHash: undefined,
        kind: 'metadata_document',
      });
      answer = (at) =>
        Response.json({
          client_id: at,
          redirect_uris: ['https://app.example/cb'],
          logo_uri: 'https://app.example/logo.png',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
        });
      const unnamed = `${documents.url}/clients/unnamed.json`;
      expect(await clients.resolve(unnamed)).toEqual({
        clientId: unnamed,
        name: '127.0.0.1',
        logoUri: 'https://app.example/logo.png',
        redirectUris: ['https://app.example/cb'],
        authMethod: 'none',
        secretHash: undefined,
        kind: 'metadata_document',
      });
      expect(served).toEqual(['/clients/named.json', '/clients/unnamed.json']);
    });

    it('refuses documents when they are turned off, and URLs without a path or with a fragment', async () => {
      const off = clientsWith({ SWITCHBOARD_MCP_OAUTH_CLIENT_METADATA_DOCUMENTS: 'false' });
      expect(await refusal(off.resolve(`${documents.url}/clients/a.json`))).toEqual({
        code: 'invalid_client',
        description: 'client metadata documents are turned off on this server',
      });
      const clients = clientsWith();
      for (const url of [`${documents.url}/`, documents.url, `${documents.url}/clients/a.json#x`]) {
        expect(await refusal(clients.resolve(url)), url).toEqual({
          code: 'invalid_client',
          description: 'a metadata document URL needs a path and no fragment',
        });
      }
      // A query is no fragment: the document is fetched.
      expect((await clients.resolve(`${documents.url}/clients/b.json?v=1`)).kind).toBe('metadata_document');
      expect(served).toEqual(['/clients/b.json']);
    });

    it('says why a document could not be fetched or is invalid', async () => {
      const clients = clientsWith();
      answer = () => new Response('gone', { status: 404 });
      const missing = `${documents.url}/clients/missing.json`;
      const failed = await clients.resolve(missing).catch((error: unknown) => error as OAuthError);
      expect(failed).toBeInstanceOf(OAuthError);
      expect({ code: (failed as OAuthError).code, description: (failed as OAuthError).description }).toEqual({
        code: 'invalid_client',
        description: 'the client metadata document could not be fetched: the document answered HTTP 404',
      });
      expect(((failed as OAuthError).cause as Error).message).toBe('the document answered HTTP 404');

      const invalid = 'the client metadata document is invalid: ';
      const cases: [(url: string) => unknown, string][] = [
        [
          () => ({ redirect_uris: [REDIRECT_URI] }),
          `${invalid}client_id: Invalid input: expected string, received undefined`,
        ],
        [() => 'no object', `${invalid}(metadata): Invalid input: expected object, received string`],
        [
          (url) => documentFor(url, { redirect_uris: [] }),
          `${invalid}redirect_uris: Too small: expected array to have >=1 items`,
        ],
        [
          () => documentFor('https://elsewhere.example/c.json'),
          'the metadata document names another client_id than its URL',
        ],
        [
          (url) => documentFor(url, { token_endpoint_auth_method: 'client_secret_basic' }),
          'a metadata-document client must use token_endpoint_auth_method none',
        ],
        [
          (url) => documentFor(url, { token_endpoint_auth_method: 'client_secret_post' }),
          'a metadata-document client must use token_endpoint_auth_method none',
        ],
        [
          (url) => documentFor(url, { redirect_uris: ['http://app.example/cb'] }),
          'redirect_uris: http://app.example/cb is not allowed (https, http on loopback, or a private-use scheme)',
        ],
        [
          (url) => documentFor(url, { grant_types: ['client_credentials'] }),
          'grant_types: only authorization_code and refresh_token are supported',
        ],
        [(url) => documentFor(url, { response_types: ['token'] }), 'response_types: only code is supported'],
      ];
      let n = 0;
      for (const [body, description] of cases) {
        const url = `${documents.url}/clients/case-${n++}.json`;
        answer = (at) => Response.json(body(at));
        expect(await refusal(clients.resolve(url)), description).toEqual({ code: 'invalid_client', description });
      }
    });

    it('takes a document of 64 KiB and refuses a byte more', async () => {
      const clients = clientsWith();
      const padded = (url: string, bytes: number) => {
        const body = JSON.stringify(documentFor(url));
        return new Response(body + ' '.repeat(bytes - Buffer.byteLength(body)));
      };
      answer = (url) => padded(url, 64 * 1024);
      expect((await clients.resolve(`${documents.url}/clients/full.json`)).kind).toBe('metadata_document');
      answer = (url) => padded(url, 64 * 1024 + 1);
      expect(await refusal(clients.resolve(`${documents.url}/clients/over.json`))).toEqual({
        code: 'invalid_client',
        description: 'the client metadata document could not be fetched: the document is larger than 65536 bytes',
      });
    });

    it('remembers a document for 5 minutes to the millisecond, per URL', async () => {
      const clock = manualClock();
      const clients = clientsWith({}, clock);
      const url = `${documents.url}/clients/cached.json`;
      const first = await clients.resolve(url);
      answer = (at) => Response.json(documentFor(at, { client_name: 'Renamed' }));
      clock.advance(5 * MINUTE - 1);
      expect(await clients.resolve(url)).toEqual(first);
      expect(served).toEqual(['/clients/cached.json']);
      expect((await clients.resolve(`${documents.url}/clients/other.json`)).name).toBe('Renamed');
      clock.advance(1);
      expect((await clients.resolve(url)).name).toBe('Renamed');
      expect(served).toEqual(['/clients/cached.json', '/clients/other.json', '/clients/cached.json']);
      // A refused document is not remembered: it is fetched again at once.
      answer = () => new Response('{}', { status: 500 });
      const broken = `${documents.url}/clients/broken.json`;
      await refusal(clients.resolve(broken));
      await refusal(clients.resolve(broken));
      expect(served.filter((path) => path === '/clients/broken.json')).toHaveLength(2);
    });

    it('forgets every remembered document once 1000 are held', async () => {
      const clients = clientsWith();
      const urlOf = (n: number) => `${documents.url}/clients/many-${n}.json`;
      for (let n = 1; n <= 1000; n++) await clients.resolve(urlOf(n));
      await clients.resolve(urlOf(1));
      expect(served).toHaveLength(1000);
      await clients.resolve(urlOf(1001));
      expect(served).toHaveLength(1001);
      await clients.resolve(urlOf(1001));
      await clients.resolve(urlOf(1));
      expect(served.slice(1000)).toEqual(['/clients/many-1001.json', '/clients/many-1.json']);
    });
  });
});

/** An id_token's claims as the fake issuer signs them unless a test says otherwise. */
type Claims = JWTPayload & Record<string, unknown>;

interface FakeIssuer extends LoopbackServer {
  /** The id_token of the next token answer, from the default claims (real time, this issuer). */
  idToken: (claims: Claims) => Promise<string>;
  /** Changes to the discovery document. */
  discovery: Record<string, unknown>;
  /** The JWKS answer. */
  jwks: () => Promise<Response>;
  tokenRequests: { form: URLSearchParams; authorization: string | null }[];
  requests: string[];
  sign: (claims: Claims, kid?: string) => Promise<string>;
  signWithOtherKey: (claims: Claims) => Promise<string>;
}

let fakeIssuerKeys: Promise<[CryptoKeyPair, CryptoKeyPair]> | undefined;

/**
 * A stand-in for Google or Auth0 (an outside party) for id_tokens the sandbox never issues:
 * signed by another key, unsigned, or with claims missing. Over a real loopback socket.
 */
async function startFakeIssuer(): Promise<FakeIssuer> {
  // RSA key generation takes up to a second: one pair of keys serves every fake issuer.
  fakeIssuerKeys ??= Promise.all([generateKeyPair('RS256'), generateKeyPair('RS256')]);
  const [key, other] = await fakeIssuerKeys;
  const publicJwk = { ...(await exportJWK(key.publicKey)), kid: 'fake-1', alg: 'RS256', use: 'sig' };
  const issuer = {} as FakeIssuer;
  const sign =
    (privateKey: CryptoKey) =>
    (claims: Claims, kid = 'fake-1') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  const server = await serveOnLoopback(async (request) => {
    const url = new URL(request.url);
    issuer.requests.push(url.pathname);
    if (url.pathname === '/.well-known/openid-configuration') {
      return Response.json({
        issuer: server.url,
        authorization_endpoint: `${server.url}/authorize`,
        token_endpoint: `${server.url}/token`,
        jwks_uri: `${server.url}/certs`,
        ...issuer.discovery,
      });
    }
    if (url.pathname === '/certs') return issuer.jwks();
    if (url.pathname === '/token') {
      issuer.tokenRequests.push({
        form: new URLSearchParams(await request.text()),
        authorization: request.headers.get('authorization'),
      });
      const now = Math.floor(Date.now() / 1000);
      const id_token = await issuer.idToken({
        iss: server.url,
        aud: LOGIN_CLIENT,
        sub: 'user-1',
        nonce: 'nonce-1',
        iat: now,
        exp: now + 600,
        email: 'jane@example.com',
        email_verified: true,
      });
      return Response.json({ access_token: 'at', token_type: 'Bearer', expires_in: 600, id_token });
    }
    return new Response('not found', { status: 404 });
  });
  return Object.assign(issuer, server, {
    idToken: sign(key.privateKey),
    discovery: {},
    jwks: async () => Response.json({ keys: [publicJwk] }),
    tokenRequests: [],
    requests: [],
    sign: sign(key.privateKey),
    signWithOtherKey: sign(other.privateKey),
  });
}

/**
 * Sign-in at the app's OpenID Connect issuer, called directly: the sandbox's OIDC face
 * (discovery, JWKS, id_tokens, its key rolled over by its control API) for the real flow, and
 * a fake issuer on loopback for id_tokens the sandbox would never sign.
 */
describe('the OpenID Connect upstream', () => {
  let sandbox: RunningSandbox;
  /** The paths the upstream fetched at the sandbox. */
  const fetched: string[] = [];
  const counting: typeof fetch = (input, init) => {
    fetched.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return sandbox.fetch(input, init);
  };

  beforeAll(() => {
    sandbox = inProcessSandbox();
  });
  afterAll(() => sandbox?.close());
  beforeEach(() => {
    fetched.length = 0;
  });

  function upstreamAt(issuer: string, env: Record<string, string> = {}, clock = manualClock(Date.now())) {
    const config = loadConfig({
      SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
      SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: issuer,
      SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: LOGIN_CLIENT,
      SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_SECRET: 'idp-client-secret',
      ...env,
    });
    return { upstream: new OidcUpstream({ config, clock, fetch: issuer === sandbox.url ? counting : fetch }), clock };
  }

  /** Signs in at the sandbox as `email` through the upstream's authorize URL; the redirect's parameters. */
  async function signInAtSandbox(upstream: OidcUpstream, email = 'john.doe@example.com') {
    const { verifier, challenge } = pkce();
    const expected = {
      state: `st-${randomBytes(4).toString('hex')}`,
      nonce: `n-${randomBytes(4).toString('hex')}`,
      verifier,
    };
    const url = new URL(
      await upstream.authorizeUrl({ state: expected.state, nonce: expected.nonce, codeChallenge: challenge }),
    );
    url.searchParams.set('login_hint', email);
    url.searchParams.set('sandbox_auto_consent', 'allow');
    const back = new URL((await sandbox.fetch(url, { redirect: 'manual' })).headers.get('location') ?? '');
    expect(back.origin + back.pathname).toBe(CALLBACK);
    return { params: back.searchParams, expected };
  }

  const paths = (which: string) => fetched.filter((path) => path === which).length;

  it('sends the browser to the issuer’s authorization endpoint with exactly these parameters', async () => {
    for (const [claim, scope] of [
      ['sub', 'openid'],
      ['email', 'openid email'],
    ]) {
      const { upstream } = upstreamAt(sandbox.url, { SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM: claim as string });
      expect(upstream.redirectUri).toBe(CALLBACK);
      const url = new URL(await upstream.authorizeUrl({ state: 'st', nonce: 'nn', codeChallenge: 'cc' }));
      expect(url.origin + url.pathname).toBe(`${sandbox.url}/o/oauth2/v2/auth`);
      expect([...url.searchParams]).toEqual([
        ['response_type', 'code'],
        ['client_id', LOGIN_CLIENT],
        ['redirect_uri', CALLBACK],
        ['scope', scope],
        ['state', 'st'],
        ['nonce', 'nn'],
        ['code_challenge', 'cc'],
        ['code_challenge_method', 'S256'],
      ]);
    }
  });

  it('identifies the user by sub, or by a verified email, once the sandbox’s id_token is verified', async () => {
    const bySub = upstreamAt(sandbox.url).upstream;
    const first = await signInAtSandbox(bySub);
    expect(await bySub.identify(first.params, first.expected)).toBe('104217389532716405821');
    const byEmail = upstreamAt(sandbox.url, { SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM: 'email' }).upstream;
    const second = await signInAtSandbox(byEmail, 'jane.doe@example.com');
    expect(await byEmail.identify(second.params, second.expected)).toBe('jane.doe@example.com');
    // The state and the nonce of another sign-in are refused (oauth4webapi's checks, kept on).
    const third = await signInAtSandbox(byEmail);
    await expect(byEmail.identify(third.params, { ...third.expected, state: 'other' })).rejects.toThrow(/state/);
    const fourth = await signInAtSandbox(byEmail);
    await expect(byEmail.identify(fourth.params, { ...fourth.expected, nonce: 'other' })).rejects.toThrow(/nonce/);
  });

  it('refuses to start or finish a sign-in without an issuer configured', async () => {
    const upstream = new OidcUpstream({ config: loadConfig({}), clock: manualClock(), fetch: counting });
    expect(upstream.settings).toBeUndefined();
    expect(await refusal(upstream.authorizeUrl({ state: 's', nonce: 'n', codeChallenge: 'c' }))).toEqual({
      code: 'server_error',
      description: 'no OpenID Connect issuer is configured',
    });
    await expect(
      upstream.identify(new URLSearchParams({ code: 'c', state: 's' }), { state: 's', nonce: 'n', verifier: 'v' }),
    ).rejects.toThrow('no OpenID Connect issuer is configured');
    expect(fetched).toEqual([]);
  });

  it('keeps the issuer’s discovery and keys for 10 minutes to the millisecond', async () => {
    const { upstream, clock } = upstreamAt(sandbox.url);
    const authorize = () => upstream.authorizeUrl({ state: 's', nonce: 'n', codeChallenge: 'c' });
    await authorize();
    expect(fetched).toEqual(['/.well-known/openid-configuration', '/oauth2/v3/certs']);
    clock.advance(10 * MINUTE - 1);
    await authorize();
    const { params, expected } = await signInAtSandbox(upstream);
    await upstream.identify(params, expected);
    expect(paths('/.well-known/openid-configuration')).toBe(1);
    expect(paths('/oauth2/v3/certs')).toBe(1);
    clock.advance(1);
    await authorize();
    expect(paths('/.well-known/openid-configuration')).toBe(2);
    expect(paths('/oauth2/v3/certs')).toBe(2);
  });

  it('fetches the keys again for an id_token signed by a key it has not seen, at most once in 30 s to the millisecond', async () => {
    const { upstream, clock } = upstreamAt(sandbox.url);
    const rollOver = async () => {
      const rotated = await sandbox.fetch(`${sandbox.url}/__sandbox/oidc/rotate-key`, { method: 'POST' });
      expect(rotated.status).toBe(200);
    };
    const signIn = async () => {
      const { params, expected } = await signInAtSandbox(upstream);
      return upstream.identify(params, expected);
    };
    expect(await signIn()).toBe('104217389532716405821');
    await rollOver();
    expect(await signIn()).toBe('104217389532716405821');
    expect(paths('/oauth2/v3/certs')).toBe(2);
    // Fetched again just now: another unknown key waits until 30 s after that.
    await rollOver();
    await expect(signIn()).rejects.toThrow('no applicable key found in the JSON Web Key Set');
    clock.advance(30_000 - 1);
    await expect(signIn()).rejects.toThrow('no applicable key found in the JSON Web Key Set');
    expect(paths('/oauth2/v3/certs')).toBe(2);
    clock.advance(1);
    expect(await signIn()).toBe('104217389532716405821');
    expect(paths('/oauth2/v3/certs')).toBe(3);
    expect(paths('/.well-known/openid-configuration')).toBe(3);
  });

  it('says why the issuer cannot be used: no jwks_uri, a failing JWKS, no authorization endpoint', async () => {
    const issuer = await startFakeIssuer();
    try {
      const cases: [Record<string, unknown>, (() => Promise<Response>) | undefined, string][] = [
        [{ jwks_uri: undefined }, undefined, 'the OpenID Connect issuer publishes no jwks_uri'],
        [{}, async () => new Response('down', { status: 503 }), "the issuer's JWKS answered HTTP 503"],
      ];
      for (const [discovery, jwks, why] of cases) {
        issuer.discovery = discovery;
        if (jwks) issuer.jwks = jwks;
        const { upstream } = upstreamAt(issuer.url);
        const failed = await upstream
          .authorizeUrl({ state: 's', nonce: 'n', codeChallenge: 'c' })
          .catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(OAuthError);
        expect((failed as OAuthError).toJSON()).toEqual({
          error: 'server_error',
          error_description: 'the OpenID Connect issuer could not be reached',
        });
        expect(((failed as OAuthError).cause as Error).message).toBe(why);
        await expect(
          upstream.identify(new URLSearchParams({ code: 'c', state: 's' }), { state: 's', nonce: 'n', verifier: 'v' }),
        ).rejects.toThrow(why);
      }
      issuer.discovery = { authorization_endpoint: undefined };
      issuer.jwks = async () => Response.json({ keys: [] });
      const { upstream } = upstreamAt(issuer.url);
      expect(await refusal(upstream.authorizeUrl({ state: 's', nonce: 'n', codeChallenge: 'c' }))).toEqual({
        code: 'server_error',
        description: 'the issuer has no authorization endpoint',
      });
    } finally {
      await issuer.close();
    }
  });

  it('lets only an issuer on plain http use plain http endpoints', async () => {
    // An https issuer (on loopback with a certificate of its own) whose discovery names a plain
    // http token endpoint: the code must not travel there in the clear.
    const { cert, key } = await ensureSelfSignedCertificate(tempDir('switchboard-oidc-tls-'), Date.now());
    const dispatcher = new Agent({ connect: { ca: cert } });
    const tlsFetch = ((input: string, init: object) =>
      undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
    const server = createServer({ cert, key }, (request, response) => {
      const base = `https://localhost:${(server.address() as AddressInfo).port}`;
      const body =
        request.url === '/.well-known/openid-configuration'
          ? {
              issuer: base,
              authorization_endpoint: `${base}/authorize`,
              token_endpoint: 'http://127.0.0.1:9/token',
              jwks_uri: `${base}/certs`,
            }
          : { keys: [] };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const issuer = `https://localhost:${(server.address() as AddressInfo).port}`;
      const config = loadConfig({
        SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
        SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: issuer,
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: LOGIN_CLIENT,
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_SECRET: 'idp-client-secret',
      });
      const upstream = new OidcUpstream({ config, clock: manualClock(Date.now()), fetch: tlsFetch });
      const url = await upstream.authorizeUrl({ state: 's', nonce: 'n', codeChallenge: 'c' });
      expect(url.startsWith(`${issuer}/authorize?`)).toBe(true);
      await expect(
        upstream.identify(new URLSearchParams({ code: 'c', state: 's' }), { state: 's', nonce: 'n', verifier: 'v' }),
      ).rejects.toThrow('only requests to HTTPS are allowed');
    } finally {
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
      await dispatcher.close();
    }
  });

  it('answers server_error when the issuer does not answer at all', async () => {
    const closed = inProcessSandbox();
    await closed.close();
    const config = loadConfig({
      SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: closed.url,
      SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: LOGIN_CLIENT,
    });
    const upstream = new OidcUpstream({ config, clock: manualClock(), fetch: closed.fetch });
    const failed = await upstream.authorizeUrl({ state: 's', nonce: 'n', codeChallenge: 'c' }).catch((e: unknown) => e);
    expect((failed as OAuthError).toJSON()).toEqual({
      error: 'server_error',
      error_description: 'the OpenID Connect issuer could not be reached',
    });
    expect(((failed as OAuthError).cause as Error).message).toBe('fetch failed');
  });

  describe('against a fake issuer', () => {
    let issuer: FakeIssuer;
    beforeEach(async () => {
      issuer = await startFakeIssuer();
    });
    afterEach(() => issuer?.close());

    const callback = new URLSearchParams({ code: 'code-1', state: 'state-1' });
    const expected = { state: 'state-1', nonce: 'nonce-1', verifier: 'verifier-1' };

    it('exchanges the code with its verifier and redirect URI, the secret sent in the form', async () => {
      const { upstream } = upstreamAt(issuer.url, { SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM: 'email' });
      expect(await upstream.identify(callback, expected)).toBe('jane@example.com');
      expect(issuer.tokenRequests).toHaveLength(1);
      const [{ form, authorization }] = issuer.tokenRequests as [{ form: URLSearchParams; authorization: null }];
      expect(authorization).toBeNull();
      expect(Object.fromEntries(form)).toEqual({
        grant_type: 'authorization_code',
        code: 'code-1',
        redirect_uri: CALLBACK,
        code_verifier: 'verifier-1',
        client_id: LOGIN_CLIENT,
        client_secret: 'idp-client-secret',
      });
    });

    it('sends no secret for a public login client', async () => {
      const config = loadConfig({
        SWITCHBOARD_PUBLIC_URL: PUBLIC_URL,
        SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: issuer.url,
        SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: LOGIN_CLIENT,
      });
      const upstream = new OidcUpstream({ config, clock: manualClock(Date.now()), fetch });
      expect(await upstream.identify(callback, expected)).toBe('user-1');
      const [{ form, authorization }] = issuer.tokenRequests as [{ form: URLSearchParams; authorization: null }];
      expect(authorization).toBeNull();
      expect(form.has('client_secret')).toBe(false);
      expect(form.get('client_id')).toBe(LOGIN_CLIENT);
    });

    it('refuses an id_token signed by another key, unsigned, or for another audience or issuer', async () => {
      const { upstream } = upstreamAt(issuer.url);
      const tokens: [string, (claims: Claims) => Promise<string>, RegExp][] = [
        ['another key', (claims) => issuer.signWithOtherKey(claims), /signature verification failed/],
        ['unsigned', async (claims) => new UnsecuredJWT(claims).encode(), /alg|unsupported|JWS/i],
        ['another audience', (claims) => issuer.sign({ ...claims, aud: 'someone-else' }), /aud/],
        ['another issuer', (claims) => issuer.sign({ ...claims, iss: 'https://evil.example' }), /iss/],
        ['another nonce', (claims) => issuer.sign({ ...claims, nonce: 'nonce-2' }), /nonce/],
        // A token answer without an id_token is refused as such, not as an unreadable token.
        ['no id_token', async () => undefined as unknown as string, /"id_token" property must be/],
      ];
      for (const [what, make, why] of tokens) {
        issuer.idToken = make;
        await expect(upstream.identify(callback, expected), what).rejects.toThrow(why);
      }
      // None of these was an unknown key: the keys were fetched once.
      expect(issuer.requests.filter((path) => path === '/certs')).toHaveLength(1);
    });

    it('refuses an id_token expired by its own clock, though the issuer’s is behind', async () => {
      const { upstream, clock } = upstreamAt(issuer.url);
      expect(await upstream.identify(callback, expected)).toBe('user-1');
      // exp is 600 s after the real time; the upstream's clock is the one that counts.
      clock.advance(600_000 + 1_000);
      await expect(upstream.identify(callback, expected)).rejects.toThrow('"exp" claim timestamp check failed');
      expect(issuer.requests.filter((path) => path === '/certs')).toHaveLength(2);
    });

    it('fetches the keys once more for an unknown key, then gives up', async () => {
      const { upstream, clock } = upstreamAt(issuer.url);
      issuer.idToken = (claims) => issuer.sign(claims, 'fake-2');
      await expect(upstream.identify(callback, expected)).rejects.toThrow('no applicable key found');
      expect(issuer.requests.filter((path) => path === '/certs')).toHaveLength(2);
      clock.advance(29_999);
      await expect(upstream.identify(callback, expected)).rejects.toThrow('no applicable key found');
      expect(issuer.requests.filter((path) => path === '/certs')).toHaveLength(2);
    });

    it('takes the claim only as a non-empty string, and an email only when verified', async () => {
      const { upstream } = upstreamAt(issuer.url, { SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM: 'email' });
      const cases: [Claims, string][] = [
        [{ email: undefined }, 'the id_token carries no email'],
        [{ email: '' }, 'the id_token carries no email'],
        [{ email: 42 }, 'the id_token carries no email'],
        [{ email_verified: false }, 'the email is not verified'],
        [{ email_verified: 'true' }, 'the email is not verified'],
        [{ email_verified: undefined }, 'the email is not verified'],
      ];
      for (const [changes, why] of cases) {
        issuer.idToken = (claims) => issuer.sign({ ...claims, ...changes });
        await expect(upstream.identify(callback, expected), JSON.stringify(changes)).rejects.toThrow(why);
      }
      // By sub, an unverified email does not matter.
      const bySub = upstreamAt(issuer.url).upstream;
      issuer.idToken = (claims) => issuer.sign({ ...claims, email_verified: false });
      expect(await bySub.identify(callback, expected)).toBe('user-1');
    });
  });
});
