import type { Hono } from 'hono';
import { type AppEnv, createApp, type Services } from '../../src/app.js';
import { createApiClient, type IssuedClient } from '../../src/auth/api-clients.js';
import { SigningKeys } from '../../src/auth/signing-keys.js';
import { type Clock, systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createEncryptor } from '../../src/crypto/envelope.js';
import type { Engine } from '../../src/db/database.js';
import { createProviderTransport } from '../../src/execution/provider-transport.js';
import { createLogger } from '../../src/logger.js';
import { createCatalog } from '../../src/providers/index.js';
import type { SandboxOptions } from '../../src/sandbox/index.js';
import { createTestDatabase, TEST_POSTGRES_URL, type TestDatabase } from './database.js';
import { inProcessFetch } from './in-process.js';
import { type LoopbackServer, serveOnLoopback } from './loopback.js';
import { inProcessSandbox, type RunningSandbox, startSandbox } from './sandbox.js';

/** A fixed test master key (32 bytes of base64), so tests can also decrypt what they inspect. */
export const TEST_ENCRYPTION_KEY = `test1:${Buffer.alloc(32, 7).toString('base64')}`;

/** Where an in-process Switchboard pretends to live: nothing listens there, and a loopback name keeps the embedded (not production) mode. */
export const IN_PROCESS_URL = 'http://switchboard.localhost';

export interface Stack {
  /** The public URL: a real loopback port with `listen`, else IN_PROCESS_URL. */
  url: string;
  /**
   * The fetch every test request goes through: it reaches the app and the sandbox in
   * process (global fetch for any other origin), or over their sockets with `listen`.
   */
  fetch: typeof fetch;
  app: Hono<AppEnv>;
  services: Services;
  db: TestDatabase;
  sandbox: RunningSandbox;
  admin: IssuedClient;
  /** A management access token of the admin client. */
  token(): Promise<string>;
  /** A management access token of another client (a `read` one, say), fetched anew each time. */
  tokenOf(client: { client_id: string; client_secret: string }): Promise<string>;
  /** Calls the management API with the admin token; returns status and parsed JSON. */
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /**
   * Completes the sandbox consent for an authentication link as `email`, following the
   * redirects as a browser would. Returns the final response of /oauth/callback.
   */
  consent(link: string, options?: { email?: string; decision?: 'allow' | 'deny' }): Promise<Response>;
  /** Creates a sandbox connection by API. */
  createConnection(name: string, provider: string, extra?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Connection + link + consent: the account is ACTIVE afterwards. Returns the account id. */
  connectAccount(connectionName: string, identifier: string, email?: string): Promise<string>;
  close(): Promise<void>;
}

export interface StackOptions {
  engine?: Engine;
  clock?: Clock;
  sandbox?: SandboxOptions;
  /** Extra environment for loadConfig (e.g. timeouts). */
  env?: Record<string, string>;
  /** Reuse an existing database (e.g. a second replica). */
  database?: TestDatabase;
  fetch?: typeof fetch;
  /**
   * Serve Switchboard and the sandbox on loopback ports, for tests where the socket is the
   * point (other processes, real MCP clients, browsers). Default: in process, no socket.
   */
  listen?: boolean;
  /** Where the server's logs go (default: nowhere unless SWITCHBOARD_TEST_LOG_LEVEL is set). */
  logs?: NodeJS.WritableStream;
}

/**
 * A real Switchboard, a real sandbox and a real database: in process by default (requests
 * go through `stack.fetch` to `app.fetch`), or on loopback ports with `listen`.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const clock = options.clock ?? systemClock;
  const sandboxOptions = { clock, ...options.sandbox };
  const sandbox = options.listen ? await startSandbox(sandboxOptions) : inProcessSandbox(sandboxOptions);
  const db = options.database ?? (await createTestDatabase(options.engine));
  let app: Hono<AppEnv> | undefined;
  const handler = (request: Request) => (app ? app.fetch(request) : new Response('starting', { status: 503 }));
  let server: LoopbackServer | undefined;
  let url = IN_PROCESS_URL;
  let stackFetch: typeof fetch = inProcessFetch({ [IN_PROCESS_URL]: handler }, sandbox.fetch);
  if (options.listen) {
    server = await serveOnLoopback(handler);
    url = server.url;
    stackFetch = globalThis.fetch;
  }
  const config = loadConfig({
    PORT: String(server?.port ?? 3000),
    SWITCHBOARD_PUBLIC_URL: url,
    SWITCHBOARD_DATA_DIR: db.dataDir,
    SWITCHBOARD_SANDBOX_URL: sandbox.url,
    SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    SWITCHBOARD_LOG_LEVEL: process.env.SWITCHBOARD_TEST_LOG_LEVEL ?? 'silent',
    SWITCHBOARD_PROVIDER_TIMEOUT_MS: '5000',
    ...options.env,
  });
  const encryptor = createEncryptor(TEST_ENCRYPTION_KEY);
  const signingKeys = new SigningKeys(db.db, encryptor, clock);
  await signingKeys.init(db.engine);
  // The server's own provider client over sockets; in process, the sandbox's fetch (or the
  // test's, which injects faults).
  const providerTransport = options.fetch || !options.listen ? undefined : createProviderTransport();
  const created = createApp({
    config,
    db: db.db,
    engine: db.engine,
    clock,
    fetch: options.fetch ?? (options.listen ? globalThis.fetch : stackFetch),
    ...(providerTransport ? { providerTransport } : {}),
    logger: createLogger(config.logLevel, options.logs),
    catalog: createCatalog(),
    encryptor,
    signingKeys,
  });
  app = created.app;
  const admin = await createApiClient(db.db, clock, 'test-admin');

  const issue = async (client: { client_id: string; client_secret: string }) => {
    const response = await stackFetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      }),
    });
    return (await response.json()) as { access_token: string; expires_in: number };
  };
  let cached: { token: string; until: number } | undefined;
  const token = async () => {
    if (cached && cached.until > clock.now()) return cached.token;
    const body = await issue(admin);
    cached = { token: body.access_token, until: clock.now() + (body.expires_in - 60) * 1000 };
    return body.access_token;
  };

  const api: Stack['api'] = async (method, path, body) => {
    const response = await stackFetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as never };
  };

  const consent: Stack['consent'] = async (link, consentOptions = {}) => {
    const opened = await stackFetch(link, { redirect: 'manual' });
    const location = opened.headers.get('location');
    if (opened.status !== 302 || !location) return opened;
    const authorize = new URL(location);
    authorize.searchParams.set('login_hint', consentOptions.email ?? 'john.doe@example.com');
    authorize.searchParams.set('sandbox_auto_consent', consentOptions.decision ?? 'allow');
    const decided = await stackFetch(authorize, { redirect: 'manual' });
    const callback = decided.headers.get('location');
    if (!callback) return decided;
    return stackFetch(callback, { redirect: 'manual' });
  };

  const createConnection: Stack['createConnection'] = async (name, provider, extra = {}) => {
    const created = await api<{ connection: Record<string, unknown> }>('POST', '/api/v1/connections', {
      name,
      provider,
      ...extra,
    });
    if (created.status !== 201) throw new Error(`creating connection ${name}: ${JSON.stringify(created.body)}`);
    return created.body.connection;
  };

  const connectAccount: Stack['connectAccount'] = async (connectionName, identifier, email) => {
    const link = await api<{ link: string }>('POST', '/api/v1/connected_accounts/magic_link', {
      connector: connectionName,
      identifier,
    });
    const done = await consent(link.body.link, { email });
    if (done.status !== 200) throw new Error(`consent failed: ${done.status} ${await done.text()}`);
    const account = await api<{ connected_account: { id: string; status: string } }>(
      'GET',
      `/api/v1/connected_accounts/details?connector=${encodeURIComponent(connectionName)}&identifier=${encodeURIComponent(identifier)}`,
    );
    return account.body.connected_account.id;
  };

  return {
    url,
    fetch: stackFetch,
    app,
    services: created.services,
    db,
    sandbox,
    admin,
    token,
    tokenOf: async (client) => (await issue(client)).access_token,
    api,
    consent,
    createConnection,
    connectAccount,
    async close() {
      await server?.close();
      await created.services.callLog.close();
      await created.services.usage.flush();
      await created.services.rateLimiter.close();
      await providerTransport?.close();
      await sandbox.close();
      if (!options.database) await db.close();
    },
  };
}

/**
 * The environment of a second Switchboard process serving the same Postgres schema, keys,
 * sandbox and public URL as `stack` (replicas behind one load balancer share the public URL:
 * token audience, links).
 */
export function replicaEnv(stack: Stack): Record<string, string> {
  const schema = stack.db.reopen.postgresSchema ?? '';
  return {
    DATABASE_URL: `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    SWITCHBOARD_SANDBOX_URL: stack.sandbox.url,
    SWITCHBOARD_DATA_DIR: stack.db.dataDir,
    SWITCHBOARD_LOG_LEVEL: 'warn',
    SWITCHBOARD_PUBLIC_URL: stack.url,
  };
}
