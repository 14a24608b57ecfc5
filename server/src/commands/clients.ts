import { parseArgs } from 'node:util';
import { type ApiClientRow, ApiClients, CLIENT_SCOPES, type ClientScope } from '../auth/api-clients.js';
import { ChangeFeed } from '../cache/change-feed.js';
import { type Clock, systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { AppError } from '../errors.js';
import { CommandError, parseOptions } from './command-error.js';

export const CLIENTS_HELP = `switchboard clients — management API credentials, straight in the server's database

Usage:
  switchboard clients list
  switchboard clients create [--name NAME] [--scope admin|read]
  switchboard clients revoke ID            ID: the client's id (cli_…) or client_id (sbc_…)
  switchboard clients rotate-secret ID

A revoked client gets no new access tokens and its tokens stop working on every replica
within a second; a rotated secret also ends the tokens issued with the old one. A "read"
client may only read (GET); "admin" (the default) may do everything.
Configuration: DATABASE_URL / SWITCHBOARD_DATA_DIR as for \`switchboard start\`.`;

function describe(row: ApiClientRow): string {
  const state = row.revoked_at ? `revoked ${row.revoked_at}` : 'active';
  return `${row.id}  ${row.client_id}  ${row.scope.padEnd(5)}  ${state.padEnd(10)}  ${row.name}`;
}

/** `switchboard clients list|create|revoke|rotate-secret`, on the database of the configured server. */
export async function clientsCommand(
  env: Record<string, string | undefined>,
  args: string[],
  out: (text: string) => void = (text) => process.stdout.write(text),
  clock: Clock = systemClock,
): Promise<void> {
  const { values, positionals } = parseOptions(
    () =>
      parseArgs({
        args,
        allowPositionals: true,
        options: { name: { type: 'string' }, scope: { type: 'string' }, help: { type: 'boolean' } },
      }),
    'switchboard clients --help',
  );
  const [sub, id] = positionals;
  if (values.help || !sub) {
    out(`${CLIENTS_HELP}\n`);
    return;
  }
  const scope = (values.scope ?? 'admin') as ClientScope;
  if (!CLIENT_SCOPES.includes(scope)) {
    throw new CommandError(`--scope must be admin or read, not "${values.scope}"`, 'see `switchboard clients --help`');
  }
  if ((sub === 'revoke' || sub === 'rotate-secret') && !id) {
    throw new CommandError(`${sub} needs the client's id`, 'list them with `switchboard clients list`');
  }
  if (!['list', 'create', 'revoke', 'rotate-secret'].includes(sub)) {
    throw new CommandError(`unknown subcommand "clients ${sub}"`, 'see `switchboard clients --help`');
  }
  const config = loadConfig(env);
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
    if (error instanceof AppError)
      throw new CommandError(error.message, 'list the clients with `switchboard clients list`');
    throw error;
  } finally {
    await handle.close();
  }
}
