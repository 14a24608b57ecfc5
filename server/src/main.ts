import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import v8 from 'node:v8';
import type { Hono } from 'hono';
import { type AppEnv, createApp } from './app.js';
import {
  createFirstAdmin,
  type DeclaredAdminState,
  ensureDeclaredAdmin,
  hasActiveAdminClient,
  type IssuedClient,
} from './auth/api-clients.js';
import { SigningKeys } from './auth/signing-keys.js';
import { type Clock, systemClock } from './clock.js';
import {
  type Config,
  ConfigError,
  isLoopbackHostname,
  loadConfig,
  productionReason,
  sandboxRootUrl,
} from './config.js';
import {
  assertKeyConfigured,
  EncryptionKeyError,
  type Encryptor,
  keyMismatchMessage,
  loadEncryptor,
} from './crypto/envelope.js';
import { checkStoredKeys } from './crypto/stored-keys.js';
import { type DatabaseHandle, openDatabase } from './db/database.js';
import { createProviderTransport } from './execution/provider-transport.js';
import { createGrpcHandlers, type GrpcHandlers } from './grpc/index.js';
import { httpServerOptions, limitConnections } from './listener/http1-options.js';
import { type Listener, listen } from './listener/listen.js';
import { serveSandbox } from './listener/sandbox-port.js';
import { fetchTrusting } from './listener/trusting-fetch.js';
import { createLogger, type Logger } from './logger.js';
import { Retention } from './maintenance/retention.js';
import { Metrics } from './observability/metrics.js';
import { serveMetrics } from './observability/metrics-server.js';
import { DatabaseTracing, startTracing } from './observability/tracing.js';
import type { PortListener } from './port-listener.js';
import { createCatalog } from './providers/index.js';
import { createSandbox } from './sandbox/app.js';

export interface RunningServer {
  config: Config;
  url: string;
  /** The HTTP/1.1 server (its limits); HTTP/2 and gRPC share its port (see listener/listen.ts). */
  server: Server;
  /** HTTPS: where its certificate is, and whether this start made it (SWITCHBOARD_TLS_SELF_SIGNED). */
  tls?: { certFile: string; keyFile: string; selfSigned: boolean };
  /** Set when this start created the first admin client (the embedded default only). */
  adminClient?: IssuedClient;
  /** The sandbox at a host root on its own port (what connections that target it use), when it has one. */
  sandboxUrl?: string;
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * A gateway's live heap is small (about 35-45 MB under load in bench/), but every request
 * leaves short-lived garbage in old space, and V8 lets old space grow to up to four times
 * the live heap before it collects: RSS then sat near 270-300 MB. Each percent here is paid
 * twice: in RSS (the heap grows to about (1 + percent/100) times the live one) and in major
 * GCs (their rate falls as the headroom grows; where the process has one core, each one's
 * marking holds calls up). Measured in bench/ at concurrency 10 over a bare server: at 100%,
 * added p99 above 2 ms in 13 of 16 cells, RSS ~215 MB; at 150%, in none of 10, but RSS
 * reached 257 MB in a 300 s soak; at 125%, in 1 of 16 (four runs; that cell 2.5 ms), RSS
 * 227-232 MB, at most 247 in the soak.
 * V8 reads this flag at every major GC, so setting it at run time takes effect; a
 * `--heap-growing-percent` given to node wins.
 */
function tuneHeap(percent: number): void {
  if (percent <= 0 || process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) return;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

export { httpServerOptions, limitConnections };

/** What a start tells its caller about the first admin client, for the caller to print. */
export interface FirstAdminHooks {
  /** The embedded default created it and saved it to `file` (mode 0600). */
  onAdminCreated?: (client: IssuedClient, file: string) => void;
  /** Production mode, and no admin client can get tokens: the operator must create one. */
  onNoAdminClient?: () => void;
  /** What the start found of the declared admin client (SWITCHBOARD_ADMIN_CLIENT_ID). */
  onDeclaredAdmin?: (clientId: string, state: DeclaredAdminState) => void;
}

/** Files others on this machine can read (the data directory, the SQLite file): one warning each. */
function warnAboutSharedFiles(dataDir: string, warn: (message: string) => void): void {
  for (const [path, fix] of [
    [dataDir, 'chmod 700'],
    [join(dataDir, 'switchboard.db'), 'chmod 600'],
  ] as const) {
    if (!existsSync(path)) continue;
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) warn(`${path} is open to other users (mode 0${mode.toString(8)}); fix it with: ${fix} ${path}`);
  }
}

/** The key id the database's oldest sealed secret needs, if it holds any yet. */
async function sealedKeyId(handle: DatabaseHandle): Promise<string | undefined> {
  const row = await handle.db
    .selectFrom('signing_keys')
    .select('key_id')
    .orderBy('created_at', 'asc')
    .executeTakeFirst();
  return row?.key_id;
}

/**
 * Where the mounted sandbox's consent page may send the browser: this server's own pages,
 * and on a developer's machine any local app. Never elsewhere: that would be an open redirect.
 */
function sandboxRedirectRule(config: Config): (uri: URL) => boolean {
  const own = new URL(config.publicUrl).origin;
  return (uri) => uri.origin === own || (!config.production && isLoopbackHostname(uri.hostname));
}

function describeSandbox(config: Config): string {
  if (!config.sandbox.enabled) return 'sandbox off (production mode; SWITCHBOARD_SANDBOX=true mounts it)';
  if (!config.sandbox.mounted) return `sandbox connections use ${config.sandbox.url}`;
  const at = config.sandbox.port === undefined ? '' : `, and at ${config.sandbox.url} for Google's client libraries`;
  const mountedAt = `sandbox mounted at /sandbox${at}`;
  if (config.sandbox.controlSecret) return `${mountedAt}; its control API needs the bearer secret`;
  if (config.sandbox.controlLoopbackOnly) {
    return `${mountedAt}; its control API answers only on this machine (set SWITCHBOARD_SANDBOX_CONTROL_SECRET to use it from elsewhere)`;
  }
  return `${mountedAt} with an open control API (embedded default)`;
}

/**
 * Configuration → database → migrations → keys → app → listen. The only place with side
 * effects at start; `switchboard start` calls it and nothing else does.
 */
export async function startServer(
  env: Record<string, string | undefined>,
  options: FirstAdminHooks & { logDestination?: NodeJS.WritableStream } = {},
): Promise<RunningServer> {
  const config = loadConfig(env);
  tuneHeap(config.heapGrowingPercent);
  const logger = createLogger(config.logLevel, options.logDestination);
  const clock = systemClock;
  assertKeyConfigured(config.encryption, config.dataDir, productionReason(config));
  const handle = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    preparedStatements: config.pgPreparedStatements,
    onCheckpointError: (message) =>
      logger.warn({ err: message }, 'SQLite checkpoints off the event loop failed; the connection checkpoints itself'),
    onNewerSchema: (migrations) =>
      logger.warn(
        { migrations },
        'a newer Switchboard has migrated this database (a rolling upgrade or a rollback); this build runs on it, since migrations only add',
      ),
  });
  try {
    warnAboutSharedFiles(config.dataDir, (message) => logger.warn(message));
    const encryptor = loadEncryptor(config.encryption, config.dataDir, (message) => logger.warn(message), {
      production: productionReason(config),
      sealedKeyId: await sealedKeyId(handle),
    });
    const fromFile = !config.encryption.current;
    const underOlderKeys = await checkStoredKeys(handle.db, encryptor, { dataDir: config.dataDir, fromFile });
    if (underOlderKeys.length > 0) {
      logger.warn(
        { sealed: underOlderKeys },
        `${underOlderKeys.reduce((sum, count) => sum + count.rows, 0)} stored secret(s) are still sealed with an older key; ` +
          `run \`npx switchboard keys reencrypt\` to reseal them with "${encryptor.currentKeyId}" before removing the old key from SWITCHBOARD_ENCRYPTION_KEYS_OLD`,
      );
    }
    const signingKeys = new SigningKeys(handle.db, encryptor, clock);
    try {
      await signingKeys.init(handle.engine);
    } catch (error) {
      if (!(error instanceof EncryptionKeyError)) throw error;
      throw new EncryptionKeyError(
        'key_mismatch',
        keyMismatchMessage(await sealedKeyId(handle), config.dataDir, fromFile),
        { cause: error },
      );
    }
    return await startServing(env, config, options, { handle, encryptor, signingKeys, logger, clock });
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The certificate and key to serve HTTPS with: the configured files, or the development certificate. */
async function loadTls(
  config: Config,
  now: number,
): Promise<{ cert: string; key: string; certFile: string; keyFile: string; selfSigned: boolean } | undefined> {
  if (!config.tls) return undefined;
  if (config.tls.kind === 'self-signed') {
    // Loaded only here: the certificate builder is a few hundred KB no other start needs.
    const { ensureSelfSignedCertificate } = await import('./listener/self-signed.js');
    return { ...(await ensureSelfSignedCertificate(config.dataDir, now)), selfSigned: true };
  }
  const { certFile, keyFile } = config.tls;
  const read = (file: string, name: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError([`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`]);
    }
  };
  const cert = read(certFile, 'SWITCHBOARD_TLS_CERT');
  const key = read(keyFile, 'SWITCHBOARD_TLS_KEY');
  return { cert, key, certFile, keyFile, selfSigned: false };
}

/** What a start has opened before it serves: the database, the keys, the log and the clock. */
interface Opened {
  handle: DatabaseHandle;
  encryptor: Encryptor;
  signingKeys: SigningKeys;
  logger: Logger;
  clock: Clock;
}

async function startServing(
  env: Record<string, string | undefined>,
  config: Config,
  options: FirstAdminHooks,
  started: Opened,
): Promise<RunningServer> {
  const { handle, logger, clock } = started;
  const adminClient = await firstAdmin(config, handle, clock, options);

  const tls = await loadTls(config, clock.now());
  // The port is bound before the app is built: with PORT=0 the system picks it, and every URL
  // derived from PORT (the public URL, its sandbox, the allowed hosts) must carry that one.
  let serving: Serving | undefined;
  const listener = await listen({
    port: config.port,
    host: config.host,
    http: config.http,
    tls: tls ? { cert: tls.cert, key: tls.key } : undefined,
    // Every argument passes on: the second is the Node request, whose socket tells who the caller is.
    fetch: (...args: Parameters<Serving['fetch']>) => (serving ? serving.fetch(...args) : notReadyYet()),
    grpc: {
      stream: (stream, headers, rawHeaders) => serving?.grpc.stream(stream, headers, rawHeaders) ?? false,
      request: (req, res) => (serving ? serving.grpc.request(req, res) : res.writeHead(503).end()),
    },
    logger,
  });
  let sandboxListener: PortListener | undefined;
  try {
    if (config.port === 0) config = loadConfig(env, { boundPort: listener.port });
    const sandbox = config.sandbox.mounted
      ? createSandbox({
          clock,
          accessTokenTtlSeconds: config.sandbox.accessTokenTtlSeconds,
          control: { secret: config.sandbox.controlSecret, loopbackOnly: config.sandbox.controlLoopbackOnly },
          allowRedirectUri: sandboxRedirectRule(config),
        }).app
      : undefined;
    // Its own port before the app: connections that target the sandbox use the URL it got.
    if (sandbox && config.sandbox.port !== undefined) {
      sandboxListener = await serveSandbox(sandbox.fetch, {
        port: config.sandbox.port,
        portIsDefault: config.sandbox.portIsDefault,
        host: config.host,
        http: config.http,
      });
      const url = sandboxRootUrl(config.publicUrl, sandboxListener.port);
      config = { ...config, sandbox: { ...config.sandbox, port: sandboxListener.port, url } };
    }
    const running = await startApp(config, { ...started, tls, sandbox, listener, sandboxListener }, (app) => {
      serving = app;
    });
    return { ...running, adminClient };
  } catch (error) {
    await listener.close();
    await sandboxListener?.close();
    throw error;
  }
}

/**
 * The embedded default makes the first admin client and keeps its secret for the demo and the
 * CLI. Production mode makes none: a secret printed by a server lands in every log store for
 * its retention, so the operator creates the first admin with `switchboard clients create`,
 * which prints it to their terminal only, and each start says so until an admin client exists.
 */
async function firstAdmin(
  config: Config,
  handle: DatabaseHandle,
  clock: Clock,
  hooks: FirstAdminHooks,
): Promise<IssuedClient | undefined> {
  if (config.declaredAdmin) {
    // Declared by the deployment: its secret is the operator's already, so nothing is printed
    // or written, in either mode, and no random first admin is made beside it.
    const state = await ensureDeclaredAdmin(handle.db, clock, config.declaredAdmin);
    hooks.onDeclaredAdmin?.(config.declaredAdmin.clientId, state);
    if (state !== 'created' && state !== 'present' && !(await hasActiveAdminClient(handle.db))) {
      hooks.onNoAdminClient?.();
    }
    return undefined;
  }
  if (config.production) {
    if (!(await hasActiveAdminClient(handle.db))) hooks.onNoAdminClient?.();
    return undefined;
  }
  // Processes starting at once on an empty database: only one of them creates (and prints) it.
  const adminClient = await createFirstAdmin(handle.db, handle.engine, clock);
  if (!adminClient) return undefined;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const file = join(config.dataDir, 'admin-credentials.json');
  writeFileSync(
    file,
    `${JSON.stringify({ client_id: adminClient.client_id, client_secret: adminClient.client_secret }, null, 2)}\n`,
    { mode: 0o600 },
  );
  hooks.onAdminCreated?.(adminClient, file);
  return adminClient;
}

/** What the bound port hands its requests to once the app is built. */
interface Serving {
  fetch: Hono<AppEnv>['fetch'];
  grpc: GrpcHandlers;
}

/** What the port answers in the moment between binding it and the app being built. */
function notReadyYet(): Response {
  return new Response('starting', { status: 503, headers: { 'retry-after': '1' } });
}

async function startApp(
  config: Config,
  started: Opened & {
    tls: Awaited<ReturnType<typeof loadTls>>;
    sandbox: ReturnType<typeof createSandbox>['app'] | undefined;
    listener: Listener;
    sandboxListener: PortListener | undefined;
  },
  serve: (app: Serving) => void,
): Promise<Omit<RunningServer, 'adminClient'>> {
  const { handle, encryptor, signingKeys, logger, clock, tls, sandbox, listener, sandboxListener } = started;
  // Process metrics and the pool are this process's alone; tests build apps without them.
  const metrics = new Metrics({ processMetrics: true });
  if (handle.pool) metrics.watchPool(handle.pool);
  // The metrics port is bound before anything else opens (the provider pool, tracing, the
  // services' Redis client), so a port that is taken fails the start with nothing to close.
  const metricsListener = config.metrics.port
    ? await serveMetrics(metrics, { port: config.metrics.port, host: config.host })
    : undefined;
  // This server calls itself when the sandbox is mounted: over HTTPS, it trusts its own development certificate.
  const trust = tls?.selfSigned ? [tls.cert] : undefined;
  const providerTransport = createProviderTransport({ extraCa: trust });
  const tracing = config.tracing.enabled ? await startTracing(config.tracing.serviceName) : undefined;
  const { app, services } = createApp({
    config,
    db: tracing
      ? handle.db.withPlugin(new DatabaseTracing(handle.engine === 'postgres' ? 'postgresql' : 'sqlite'))
      : handle.db,
    metrics,
    engine: handle.engine,
    clock,
    fetch: trust ? fetchTrusting(trust) : globalThis.fetch,
    providerTransport,
    logger,
    catalog: createCatalog(),
    encryptor,
    signingKeys,
    sandbox,
  });
  serve({ fetch: app.fetch, grpc: createGrpcHandlers(services) });

  const server = listener.http1;
  const retention = new Retention(
    { db: handle.db, clock, logger },
    { logRetentionDays: config.logRetentionDays, accountEventRetentionDays: config.accountEventRetentionDays },
  );
  retention.start();
  const stopSweeping = services.changes.startSweeping();
  const port = listener.port;
  logger.info(
    {
      port,
      database: handle.engine,
      production: config.production,
      sandbox: config.sandbox.mounted,
      tls: tls ? tls.certFile : false,
    },
    'switchboard is listening',
  );
  logger.info(describeSandbox(config));

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Stop accepting, let in-flight requests finish, write the last audit rows, then release the database.
      await listener.close();
      await sandboxListener?.close();
      await metricsListener?.close();
      await retention.stop();
      stopSweeping();
      await services.callLog.close();
      await services.usage.flush();
      await services.rateLimiter.close();
      await providerTransport.close();
      await handle.close();
      await tracing?.shutdown();
      logger.flush();
    })();
    return stopping;
  };
  return {
    config,
    url: `${tls ? 'https' : 'http'}://${config.host}:${port}`,
    server,
    tls: tls ? { certFile: tls.certFile, keyFile: tls.keyFile, selfSigned: tls.selfSigned } : undefined,
    sandboxUrl: sandboxListener ? config.sandbox.url : undefined,
    logger,
    stop,
  };
}

export { loadConfig };
