import { parseArgs } from 'node:util';
import { type ApiClientRow, ApiClients, CLIENT_SCOPES, type ClientScope } from '../auth/api-clients.js';
import { ChangeFeed } from '../cache/change-feed.js';
import { type Clock, systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { AppError } from '../errors.js';
import { CommandError, parseOptions } from './command-error.js';
import { CLI, cliCommand, DEFAULT_DATA_DIR, withDataDir } from './invocation.js';

export const CLIENTS_HELP = `${CLI} clients — management API credentials, straight in the server's database

Usage:
  ${CLI} clients list                              [--data-dir DIR]
  ${CLI} clients create [--name NAME] [--scope admin|read] [--data-dir DIR]
  ${CLI} clients revoke ID                         [--data-dir DIR]
  ${CLI} clients rotate-secret ID                  [--data-dir DIR]
ID: the client's id (cli_…) or client_id (sbc_…).

A revoked client gets no new access tokens and its tokens stop working on every replica
within a second; a rotated secret also ends the tokens issued with the old one. A "read"
client may only read the management API (GET), not run tools or /proxy; "admin" (the default)
may do everything.

Options:
  --data-dir DIR   the server's data directory (default: SWITCHBOARD_DATA_DIR, or ${DEFAULT_DATA_DIR});
                   the demo (\`npm start\`) keeps its own in .data/demo
  --help           this help
With DATABASE_URL set, the clients live in that database, as for \`${CLI} start\`.`;

function describe(row: ApiClientRow): string {
  const state = row.revoked_at ? `revoked ${row.revoked_at}` : 'active';
  return `${row.id}  ${row.client_id}  ${row.scope.padEnd(5)}  ${state.padEnd(10)}  ${row.name}`;
}

/** `npx switchboard clients list|create|revoke|rotate-secret`, on the database of the configured server. */
export async function clientsCommand(
  env: Record<string, string | undefined>,
  args: string[],
  out: (text: string) => void = (text) => process.stdout.write(text),
  clock: Clock = systemClock,
): Promise<void> {
  // Options may come first (`--help`); the subcommand is the first word that is not one.
  const sub = args[0]?.startsWith('-') ? undefined : args[0];
  const rest = sub === undefined ? args : args.slice(1);
  const help = `${CLI} clients --help`;
  const { values, positionals } = parseOptions(
    () =>
      parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          name: { type: 'string' },
          scope: { type: 'string' },
          'data-dir': { type: 'string' },
          help: { type: 'boolean', default: false },
        },
        strict: true,
      }),
    help,
    `${CLI} clients list|create|revoke|rotate-secret [ID] [--name NAME] [--scope admin|read] [--data-dir DIR]`,
  );
  if (values.help || !sub || sub === 'help') {
    out(`${CLIENTS_HELP}\n`);
    return;
  }
  if (!['list', 'create', 'revoke', 'rotate-secret'].includes(sub)) {
    throw new CommandError(`unknown subcommand "clients ${sub}"`, `see \`${help}\``);
  }
  const [id, ...extra] = positionals;
  const takesId = sub === 'revoke' || sub === 'rotate-secret';
  if (takesId && !id) {
    throw new CommandError(`${sub} needs the client's id`, `list them with \`${CLI} clients list\``);
  }
  const unexpected = takesId ? extra[0] : id;
  if (unexpected !== undefined) throw new CommandError(`unexpected argument "${unexpected}"`, `see \`${help}\``);
  // Each subcommand takes only its own options: `clients list --scope read` is an error, not a no-op.
  if (sub !== 'create' && (values.name !== undefined || values.scope !== undefined)) {
    throw new CommandError(
      `--name and --scope belong to \`clients create\`, not \`clients ${sub}\``,
      `see \`${help}\``,
    );
  }
  const scope = (values.scope ?? 'admin') as ClientScope;
  if (!CLIENT_SCOPES.includes(scope)) {
    throw new CommandError(`--scope must be admin or read, not "${values.scope}"`, `see \`${help}\``);
  }
  const config = loadConfig(withDataDir(env, values['data-dir']));
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  // Revocations go through the change feed like the server's own, so running replicas see them.
  const clients = new ApiClients({ db: handle.db, clock, changes: new ChangeFeed({ db: handle.db, clock }) });
  try {
    if (sub === 'list') {
      const rows = await clients.list();
      out(rows.length ? `${rows.map(describe).join('\n')}\n` : 'No API clients.\n');
    } else if (sub === 'create') {
      const name = values.name ?? 'cli';
      const client = await clients.create(name, scope);
      out(
        `Created API client "${name}" (scope ${client.scope}). The secret is shown only now:\n  client_id:     ${client.client_id}\n  client_secret: ${client.client_secret}\n`,
      );
    } else if (sub === 'revoke') {
      const row = await clients.revoke(id ?? '');
      out(`Revoked ${row.id} (${row.client_id}, "${row.name}"): its access tokens no longer work.\n`);
    } else {
      const client = await clients.rotateSecret(id ?? '');
      out(
        `New secret for ${client.id} ("${client.name}"); the old one and its access tokens no longer work. Shown only now:\n  client_id:     ${client.client_id}\n  client_secret: ${client.client_secret}\n`,
      );
    }
  } catch (error) {
    if (error instanceof AppError) {
      throw new CommandError(
        error.message,
        `list the clients with \`${cliCommand('clients list', values['data-dir'])}\``,
      );
    }
    throw error;
  } finally {
    await handle.close();
  }
}
