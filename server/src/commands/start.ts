import { parseArgs } from 'node:util';
import type { DeclaredAdminState } from '../auth/api-clients.js';
import { loadConfig } from '../config.js';
import { freePort } from '../free-port.js';
import { startServer } from '../main.js';
import { CommandError, parseOptions } from './command-error.js';
import { CLI, cliCommand, DEFAULT_DATA_DIR, withDataDir } from './invocation.js';

const START_USAGE = `${CLI} start [--port N] [--data-dir DIR] [--tls-self-signed]`;

export const START_HELP = `${CLI} start — run the server

Usage:
  ${START_USAGE}

Options:
  --port N           listen on N (default: PORT, or 3000)
  --data-dir DIR     the SQLite database, key file and first admin credentials
                     (default: SWITCHBOARD_DATA_DIR, or ${DEFAULT_DATA_DIR}); every command takes the same option
  --tls-self-signed  HTTPS with a certificate for localhost made in the data directory
                     (= SWITCHBOARD_TLS_SELF_SIGNED=true; for development only)
  --help             this help

Without DATABASE_URL the server keeps everything in the data directory (SQLite) and mounts
the sandbox; see the README for every variable (DATABASE_URL, SWITCHBOARD_PUBLIC_URL,
SWITCHBOARD_ENCRYPTION_KEY, SWITCHBOARD_ALLOWED_ORIGINS, …).`;

/** `npx switchboard start`: the server in the foreground until SIGINT or SIGTERM. */
export async function startCommand(
  env: Record<string, string | undefined>,
  args: string[],
  out: (text: string) => void = (text) => process.stdout.write(text),
): Promise<void> {
  const { values } = parseOptions(
    () =>
      parseArgs({
        args,
        options: {
          port: { type: 'string' },
          'data-dir': { type: 'string' },
          'tls-self-signed': { type: 'boolean', default: false },
          help: { type: 'boolean', default: false },
        },
        strict: true,
      }),
    `${CLI} start --help`,
    START_USAGE,
  );
  if (values.help) {
    out(`${START_HELP}\n`);
    return;
  }
  const startEnv = withDataDir(
    {
      ...env,
      ...(values.port === undefined ? {} : { PORT: values.port }),
      ...(values['tls-self-signed'] ? { SWITCHBOARD_TLS_SELF_SIGNED: 'true' } : {}),
    },
    values['data-dir'],
  );
  const config = loadConfig(startEnv);
  // Said before anything is opened, rather than as a listen error after the database is.
  if (config.port !== 0) {
    await freePort(config.port, config.host).catch((error: NodeJS.ErrnoException) => {
      // Not a taken port: HOST names no address of this machine (unknown name, someone else's IP).
      if (error.code !== 'EADDRINUSE') {
        throw new CommandError(
          `cannot listen on HOST ${config.host} (${error.code ?? error.message})`,
          'set HOST to an address of this machine: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)',
        );
      }
      throw new CommandError(
        `port ${config.port} on ${config.host} is already in use (another Switchboard, or \`npm start\`?)`,
        `stop that process, or pick another port: ${cliCommand(`start --port ${config.port + 1}`, values['data-dir'])}`,
      );
    });
  }
  const dataDirOption = config.databaseUrl ? undefined : config.dataDir;
  const running = await startServer(startEnv, {
    onAdminCreated: (client, file) => {
      out(
        [
          '',
          'First start: created an admin API client. Its secret is shown only this once:',
          `  client_id:     ${client.client_id}`,
          `  client_secret: ${client.client_secret}`,
          `  (also written to ${file}, mode 0600)`,
          `  More clients: ${cliCommand('clients create --name NAME', dataDirOption)}`,
          '',
        ].join('\n'),
      );
    },
    onDeclaredAdmin: (clientId, state) => {
      const line = DECLARED_ADMIN_LINES[state];
      if (line) out(`${line.replace('{id}', clientId)}\n`);
    },
    onNoAdminClient: () => {
      out(
        [
          '',
          'No admin API client yet. In production mode Switchboard creates none itself, so that no secret is ever in its log.',
          `Create the first one ${config.databaseUrl ? 'with the same DATABASE_URL' : 'on this machine'}; it prints the secret to your terminal only:`,
          `  ${cliCommand('clients create --name admin', dataDirOption)}`,
          '  In the container image: node server/dist/cli.js clients create --name admin',
          '  (docker compose exec / kubectl exec forms: docs/deployment.md)',
          'Or declare one with SWITCHBOARD_ADMIN_CLIENT_ID and SWITCHBOARD_ADMIN_CLIENT_SECRET (e.g. from a Kubernetes secret).',
          '',
        ].join('\n'),
      );
    },
  });
  out(`Switchboard is ready at ${running.config.publicUrl}\n`);
  if (running.sandboxUrl) {
    out(
      `Sandbox Google at ${running.sandboxUrl} (rootUrl for @googleapis clients; SWITCHBOARD_SANDBOX_PORT moves it)\n`,
    );
  }
  if (running.tls?.selfSigned) {
    out(
      [
        `HTTPS with a development certificate (${running.tls.certFile}). Clients must trust it; for Python:`,
        `  export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=${running.tls.certFile}`,
        `  export REQUESTS_CA_BUNDLE=${running.tls.certFile}`,
        `and for Node: NODE_EXTRA_CA_CERTS=${running.tls.certFile}`,
        '',
      ].join('\n'),
    );
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      running.logger.info({ signal }, 'shutting down');
      running.stop().then(
        () => resolve(),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  process.exit(0);
}

/**
 * What a start says of the declared admin client, per state (`{id}`: its client_id). A row
 * made earlier is never changed by a start, so the last three tell the operator that the
 * deployment's secret is no longer the one that works, and why.
 */
const DECLARED_ADMIN_LINES: Record<DeclaredAdminState, string | undefined> = {
  created:
    'Created the declared admin API client {id} (its secret is SWITCHBOARD_ADMIN_CLIENT_SECRET; none is printed).',
  present: undefined,
  secret_differs:
    'Warning: SWITCHBOARD_ADMIN_CLIENT_SECRET is not the stored secret of API client {id} (rotated since, or changed in the deployment). A start never changes an existing client, so the stored secret stands: put it in the deployment, or declare a new client id.',
  revoked:
    'Warning: the declared admin API client {id} is revoked; a revocation outlives restarts. Declare a new client id to make another.',
  not_admin:
    'Warning: API client {id} exists with scope read, so SWITCHBOARD_ADMIN_CLIENT_ID does not declare an admin. Declare a new client id.',
};
