import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiClient, openDatabase, systemClock } from '@switchboard/server';
import { type Child, freePort, startChild, tempDir } from './proc.js';

export const SERVER_CLI = fileURLToPath(new URL('../../server/dist/cli.js', import.meta.url));
export const SANDBOX_SERVE = fileURLToPath(new URL('../../server/dist/sandbox/serve.js', import.meta.url));
export const BARE_SERVER = fileURLToPath(new URL('./bare-server.js', import.meta.url));

/** One fixed master key for every benchmark server, so replicas and the seeder agree. */
export const BENCH_ENCRYPTION_KEY = `bench1:${Buffer.alloc(32, 11).toString('base64')}`;

export const SANDBOX_EMAIL = 'john.doe@example.com';

export interface Sandbox extends Child {
  url: string;
}

export async function startSandbox(options: { ttlSeconds?: number } = {}): Promise<Sandbox> {
  const port = await freePort();
  const args = [SANDBOX_SERVE, '--port', String(port)];
  if (options.ttlSeconds) args.push('--ttl', String(options.ttlSeconds));
  const child = await startChild('sandbox', args, {}, 'sandbox listening', { side: 'load' });
  return { ...child, url: `http://127.0.0.1:${port}` };
}

export interface SwitchboardOptions {
  sandboxUrl?: string;
  databaseUrl?: string;
  dataDir?: string;
  publicUrl?: string;
  port?: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Use the embedded defaults: no fixed key, no external sandbox. */
  embedded?: boolean;
  /** Another build's `server/dist/cli.js` (bench --baseline); this checkout's by default. */
  cli?: string;
  /** Runs node under another program (valgrind), with a start timeout to suit it. */
  launch?: Launch;
}

/** How a server's node is run: under `wrapper` (e.g. valgrind), allowed `timeoutMs` to get ready. */
export interface Launch {
  wrapper: string[];
  timeoutMs: number;
}

export interface Switchboard extends Child {
  url: string;
  dataDir: string;
  /** Deletes the data folder when this start made it (not one passed in). */
  removeDataDir(): void;
}

/** Environment every Switchboard the bench starts gets (bench --server-env), before a start's own. */
let serverEnv: Record<string, string> = {};

/** Sets the environment every later Switchboard start gets, e.g. to measure a setting off and on. */
export function useServerEnv(env: Record<string, string>): void {
  serverEnv = { ...env };
}

export async function startSwitchboard(options: SwitchboardOptions = {}): Promise<Switchboard> {
  const port = options.port ?? (await freePort());
  const made = options.dataDir === undefined ? tempDir('switchboard-bench-') : undefined;
  const dataDir = options.dataDir ?? made?.path ?? '';
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PORT: String(port),
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_LOG_LEVEL: 'warn',
    ...(options.embedded
      ? {}
      : {
          SWITCHBOARD_PUBLIC_URL: options.publicUrl ?? url,
          SWITCHBOARD_ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY,
        }),
    ...(options.sandboxUrl ? { SWITCHBOARD_SANDBOX_URL: options.sandboxUrl } : {}),
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...serverEnv,
    ...options.env,
  };
  const child = await startChild(
    'switchboard',
    [...(options.nodeArgs ?? []), options.cli ?? SERVER_CLI, 'start'],
    env,
    'Switchboard is ready',
    options.launch ?? {},
  );
  return { ...child, url, dataDir, removeDataDir: () => made?.remove() };
}

/** Which HTTP client the bare server calls the sandbox with (see bare-server.ts). */
export type BareClient = 'fetch' | 'undici';

export async function startBareServer(
  sandboxUrl: string,
  accessToken: string,
  client: BareClient = 'fetch',
  nodeArgs: string[] = [],
  launch?: Launch,
): Promise<Child & { url: string }> {
  const port = await freePort();
  const child = await startChild(
    `bare-${client}`,
    [...nodeArgs, BARE_SERVER],
    { PORT: String(port), SANDBOX_URL: sandboxUrl, ACCESS_TOKEN: accessToken, BARE_HTTP_CLIENT: client },
    'bare MCP server ready',
    launch ?? {},
  );
  return { ...child, url: `http://127.0.0.1:${port}/mcp` };
}

/** A sandbox access token issued directly (no consent), as the bare server's fixed token. */
export async function issueSandboxToken(sandboxUrl: string): Promise<string> {
  const response = await fetch(`${sandboxUrl}/__sandbox/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: SANDBOX_EMAIL, scopes: ['https://www.googleapis.com/auth/gmail.readonly'] }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`the sandbox issued no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

export async function sandboxRefreshCount(sandboxUrl: string): Promise<number> {
  const response = await fetch(`${sandboxUrl}/__sandbox/counters`);
  const body = (await response.json()) as { tokenCalls: Record<string, number> };
  return body.tokenCalls.refresh_token ?? 0;
}

/** The management API of one Switchboard, as its first-start admin client. */
export class Admin {
  private token?: { value: string; until: number };

  constructor(
    readonly baseUrl: string,
    private readonly credentials: { client_id: string; client_secret: string },
  ) {}

  /**
   * The admin of a started Switchboard. On SQLite (the embedded default) it reads the
   * first-start credentials file; with Postgres the server runs in production mode, which
   * creates no admin client, so the bench makes its own in the shared database.
   */
  static async forServer(server: Switchboard, databaseUrl: string | undefined): Promise<Admin> {
    if (!databaseUrl) return Admin.fromDataDir(server.url, server.dataDir);
    const handle = await openDatabase({ databaseUrl, dataDir: server.dataDir, poolSize: 1 });
    try {
      const client = await createApiClient(handle.db, systemClock, 'bench');
      return new Admin(server.url, client);
    } finally {
      await handle.close();
    }
  }

  static fromDataDir(baseUrl: string, dataDir: string): Admin {
    const raw = JSON.parse(readFileSync(join(dataDir, 'admin-credentials.json'), 'utf8')) as {
      client_id: string;
      client_secret: string;
    };
    return new Admin(baseUrl, raw);
  }

  async accessToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const response = await fetch(`${this.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...this.credentials }),
    });
    const body = (await response.json()) as { access_token: string; expires_in: number };
    this.token = { value: body.access_token, until: Date.now() + (body.expires_in - 60) * 1000 };
    return body.access_token;
  }

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    baseUrl = this.baseUrl,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.accessToken()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  async must<T>(method: string, path: string, body?: unknown): Promise<T> {
    const result = await this.call<T>(method, path, body);
    if (result.status >= 300) throw new Error(`${method} ${path} → ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  }

  async createConnection(name: string, provider: string): Promise<void> {
    await this.must('POST', '/api/v1/connections', { name, provider });
  }

  async createConfig(name: string, mappings: { connection_name: string; tools?: string[] }[]): Promise<string> {
    const body = await this.must<{ config: { id: string } }>('POST', '/api/v1/mcp/configs', {
      name,
      connection_tool_mappings: mappings,
    });
    return body.config.id;
  }

  async ensureInstance(configName: string, user: string): Promise<{ id: string; url: string }> {
    const body = await this.must<{ instance: { id: string; url: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: configName,
      user_identifier: user,
    });
    return body.instance;
  }

  /** Auth state with links, then the sandbox's unattended consent for every pending connection. */
  async connectAll(instanceId: string, email = SANDBOX_EMAIL): Promise<void> {
    const state = await this.must<{ connections: { authentication_link: string; connected_account_status: string }[] }>(
      'POST',
      `/api/v1/mcp/instances/${instanceId}:get_auth_state`,
      { include_auth_links: true },
    );
    for (const connection of state.connections) {
      if (connection.connected_account_status === 'ACTIVE') continue;
      await consent(connection.authentication_link, email);
    }
  }
}

/** Opens an authentication link as a browser would, with the sandbox's auto-consent. */
export async function consent(link: string, email: string): Promise<void> {
  const opened = await fetch(link, { redirect: 'manual' });
  const location = opened.headers.get('location');
  if (opened.status !== 302 || !location) throw new Error(`the link answered ${opened.status}`);
  const authorize = new URL(location);
  authorize.searchParams.set('login_hint', email);
  authorize.searchParams.set('sandbox_auto_consent', 'allow');
  const decided = await fetch(authorize, { redirect: 'manual' });
  const callback = decided.headers.get('location');
  if (!callback) throw new Error(`the sandbox consent answered ${decided.status}`);
  const done = await fetch(callback, { redirect: 'manual' });
  if (done.status !== 200) throw new Error(`the callback answered ${done.status}: ${await done.text()}`);
}
