import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import v8 from 'node:v8';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { countApiClients, createApiClient, type IssuedClient } from './auth/api-clients.js';
import { SigningKeys } from './auth/signing-keys.js';
import { systemClock } from './clock.js';
import { type Config, loadConfig } from './config.js';
import { loadEncryptor } from './crypto/envelope.js';
import { openDatabase } from './db/database.js';
import { createProviderTransport } from './execution/provider-transport.js';
import { createLogger, type Logger } from './logger.js';
import { createCatalog } from './providers/index.js';
import { createSandbox } from './sandbox/app.js';

export interface RunningServer {
  config: Config;
  url: string;
  server: Server;
  /** Set when this start created the first admin client. */
  adminClient?: IssuedClient;
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * Configuration → database → migrations → keys → app → listen. The only place with side
 * effects at start; `switchboard start` calls it and nothing else does.
 */
/**
 * A gateway's live heap is small (about 35 MB under load in bench/), but every request
 * leaves short-lived garbage in old space, and V8 lets old space grow to up to four times
 * the live heap before it collects: RSS then sat near 300 MB. Growing by 2× instead keeps it
 * near 200 MB for a few percent more GC time. V8 reads this flag at every major GC, so
 * setting it at run time takes effect; a `--heap-growing-percent` given to node wins.
 */
function tuneHeap(percent: number): void {
  if (percent <= 0 || process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) return;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

export async function startServer(
  env: Record<string, string | undefined>,
  options: {
    logDestination?: NodeJS.WritableStream;
    onAdminCreated?: (client: IssuedClient, file: string) => void;
  } = {},
): Promise<RunningServer> {
  const config = loadConfig(env);
  tuneHeap(config.heapGrowingPercent);
  const logger = createLogger(config.logLevel, options.logDestination);
  const clock = systemClock;
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const encryptor = loadEncryptor(config.encryption, config.dataDir, (message) => logger.warn(message));
  const signingKeys = new SigningKeys(handle.db, encryptor, clock);
  await signingKeys.init();

  let adminClient: IssuedClient | undefined;
  if ((await countApiClients(handle.db)) === 0) {
    adminClient = await createApiClient(handle.db, clock, 'admin');
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const file = join(config.dataDir, 'admin-credentials.json');
    writeFileSync(
      file,
      `${JSON.stringify({ client_id: adminClient.client_id, client_secret: adminClient.client_secret }, null, 2)}\n`,
      {
        mode: 0o600,
      },
    );
    options.onAdminCreated?.(adminClient, file);
  }

  const sandbox = config.sandbox.mounted
    ? createSandbox({ clock, accessTokenTtlSeconds: config.sandbox.accessTokenTtlSeconds }).app
    : undefined;
  const providerTransport = createProviderTransport();
  const { app, services } = createApp({
    config,
    db: handle.db,
    engine: handle.engine,
    clock,
    fetch: globalThis.fetch,
    providerTransport,
    logger,
    catalog: createCatalog(),
    encryptor,
    signingKeys,
    sandbox,
  });

  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s as Server));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, database: handle.engine, sandbox: config.sandbox.mounted }, 'switchboard is listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Stop accepting, let in-flight requests finish, write the last audit rows, then release the database.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await services.callLog.close();
      await services.usage.flush();
      await providerTransport.close();
      await handle.close();
    })();
    return stopping;
  };
  return { config, url: `http://${config.host}:${port}`, server, adminClient, logger, stop };
}

export { loadConfig };
