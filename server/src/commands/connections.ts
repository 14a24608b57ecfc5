import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Connection, ConnectionList } from '@switchboard/sdk';
import { loadConfig } from '../config.js';
import { readAdminCredentials } from './admin-credentials.js';
import { CommandError, parseOptions } from './command-error.js';
import { CLI, cliCommand, DEFAULT_DATA_DIR, withDataDir } from './invocation.js';
import { oauthClientFromFile } from './oauth-client-file.js';
import { readSecretOption, STDIN_PATH } from './secret-option.js';

export const CONNECTIONS_HELP = `${CLI} connections — list or create connections on a running server

Usage:
  ${CLI} connections list   [--provider P]
  ${CLI} connections create --name NAME --provider P [[--oauth-client-id ID] --oauth-client-secret-file PATH] [--scopes a,b]

Without OAuth app credentials a connection uses the built-in sandbox (a production server
has none unless SWITCHBOARD_SANDBOX=true); with them, the real provider.

Secrets are read from a file, or from standard input when PATH is -:
  printf %s "$GOOGLE_CLIENT_SECRET" | ${CLI} connections create … --oauth-client-secret-file -
The JSON file Google Cloud Console downloads (client_secret_….json) can be given as is: its
client_secret is stored, and its client_id stands in for a missing --oauth-client-id:
  ${CLI} connections create --name MY_GMAIL --provider gmail --oauth-client-secret-file client_secret.json
--oauth-client-secret SECRET and --client-secret SECRET still work, but a secret on the command
line is visible to other local users (ps) and stays in the shell history.

Server options (both subcommands):
  --url URL                  the server (default: SWITCHBOARD_PUBLIC_URL, or http://localhost:PORT)
  --client-id ID             management API credentials (default: the admin credentials the first
  --client-secret-file PATH    start wrote to DIR/admin-credentials.json)
  --data-dir DIR             the server's data directory (default: SWITCHBOARD_DATA_DIR, or ${DEFAULT_DATA_DIR};
                             the demo's is .data/demo)
  --help                     this help`;

/** The management API over plain fetch: a token from the client credentials, then JSON calls. */
class Api {
  private token: string | undefined;

  constructor(
    private readonly url: string,
    private readonly credentials: { client_id: string; client_secret: string },
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    this.token ??= await this.fetchToken();
    const response = await this.send(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await this.read(response)) as T;
  }

  private async fetchToken(): Promise<string> {
    const response = await this.send(`${this.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', ...this.credentials }),
    });
    if (response.status === 401) {
      throw new CommandError(
        'the server rejected the client credentials',
        `check --client-id/--client-secret-file, or create new ones with \`${CLI} clients create\``,
      );
    }
    return ((await this.read(response)) as { access_token: string }).access_token;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch {
      throw new CommandError(
        `could not reach Switchboard at ${this.url}`,
        `start it with \`${CLI} start\`, or pass --url`,
      );
    }
  }

  private async read(response: Response): Promise<unknown> {
    const body = (await response.json().catch(() => ({}))) as {
      error?: { message?: string } | string;
      error_description?: string;
    };
    if (response.ok) return body;
    const message = typeof body.error === 'object' ? body.error.message : (body.error_description ?? body.error);
    throw new CommandError(`${message ?? `HTTP ${response.status}`}`);
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `npx switchboard connections list|create …` against a running server, through the REST API. */
export async function connectionsCommand(
  env: Record<string, string | undefined>,
  args: string[],
  out: (text: string) => void = (text) => process.stdout.write(text),
  stdin?: Readable,
): Promise<void> {
  // Options may come first (`--help`); the subcommand is the first word that is not one.
  const sub = args[0]?.startsWith('-') ? undefined : args[0];
  const rest = sub === undefined ? args : args.slice(1);
  const { values } = parseOptions(
    () =>
      parseArgs({
        args: rest,
        options: {
          url: { type: 'string' },
          'client-id': { type: 'string' },
          'client-secret': { type: 'string' },
          'client-secret-file': { type: 'string' },
          provider: { type: 'string' },
          name: { type: 'string' },
          'oauth-client-id': { type: 'string' },
          'oauth-client-secret': { type: 'string' },
          'oauth-client-secret-file': { type: 'string' },
          scopes: { type: 'string' },
          'data-dir': { type: 'string' },
          help: { type: 'boolean', default: false },
        },
        strict: true,
      }),
    `${CLI} connections --help`,
    `${CLI} connections list|create [--name NAME] [--provider P] [--url URL] [--client-id ID --client-secret-file PATH] [--data-dir DIR]`,
  );
  if (values.help || !sub || sub === 'help') {
    out(`${CONNECTIONS_HELP}\n`);
    return;
  }
  if (sub !== 'list' && sub !== 'create') {
    throw new CommandError(
      `unknown subcommand "connections ${sub}"`,
      `use \`${CLI} connections list\` or \`${CLI} connections create\``,
    );
  }

  // Standard input holds one secret: with both files on it, the second read would find nothing.
  if (values['client-secret-file'] === STDIN_PATH && values['oauth-client-secret-file'] === STDIN_PATH) {
    throw new CommandError(
      'only one of --client-secret-file and --oauth-client-secret-file can be - (standard input)',
      'put the other secret in a file and pass its path',
    );
  }
  // Read only when a file option asks for it: process.stdin is opened on first use.
  const input = () => stdin ?? process.stdin;
  const clientSecret = await readSecretOption(
    'client-secret',
    { value: values['client-secret'], file: values['client-secret-file'] },
    input,
  );
  // One without the other used to fall back to the admin credentials without a word.
  if (Boolean(values['client-id']) !== Boolean(clientSecret)) {
    throw new CommandError(
      'give both --client-id and --client-secret-file, or neither (the admin credentials of --data-dir)',
    );
  }

  const config = loadConfig(withDataDir(env, values['data-dir']));
  const url = (values.url ?? config.publicUrl).replace(/\/+$/, '');
  const credentials =
    values['client-id'] && clientSecret
      ? { client_id: values['client-id'], client_secret: clientSecret }
      : readAdminCredentials(config.dataDir, values['data-dir']);
  const api = new Api(url, credentials);

  if (sub === 'list') {
    const query = values.provider ? `?provider=${encodeURIComponent(values.provider)}&page_size=100` : '?page_size=100';
    const { connections, total_size } = await api.call<ConnectionList>('GET', `/api/v1/connections${query}`);
    if (connections.length === 0) {
      out(
        `No connections yet. Create one: ${cliCommand('connections create --name MY_GMAIL --provider gmail', values['data-dir'])}\n`,
      );
      return;
    }
    const rows = connections.map((c) => [c.name, c.provider, c.target, c.id]);
    out(`${table([['NAME', 'PROVIDER', 'TARGET', 'ID'], ...rows])}\n`);
    if (total_size > connections.length) out(`(${connections.length} of ${total_size} shown)\n`);
    return;
  }

  if (!values.name || !values.provider) {
    throw new CommandError(
      'connections create needs --name and --provider',
      `e.g. ${CLI} connections create --name MY_GMAIL --provider gmail`,
    );
  }
  const oauth = await readOAuthApp(values, input);
  if (Boolean(oauth.clientId) !== Boolean(oauth.secret)) {
    throw new CommandError('give both --oauth-client-id and --oauth-client-secret-file, or neither (sandbox)');
  }
  const { connection } = await api.call<{ connection: Connection }>('POST', '/api/v1/connections', {
    name: values.name,
    provider: values.provider,
    oauth_client_id: oauth.clientId,
    oauth_client_secret: oauth.secret,
    scopes: values.scopes
      ? values.scopes
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
  });
  out(`Created connection ${connection.name} (${connection.provider}, ${connection.target}) ${connection.id}\n`);
  if (connection.target === 'provider')
    out(`Register this redirect URI in your OAuth app: ${connection.redirect_uri}\n`);
}

/**
 * The OAuth app's id and secret from the options; a Google client file also gives the id,
 * which must then be the one --oauth-client-id names (if it names one).
 */
async function readOAuthApp(
  values: { 'oauth-client-id'?: string; 'oauth-client-secret'?: string; 'oauth-client-secret-file'?: string },
  input: () => Readable,
): Promise<{ clientId?: string; secret?: string }> {
  const file = values['oauth-client-secret-file'];
  const given = values['oauth-client-id'];
  const text = await readSecretOption('oauth-client-secret', { value: values['oauth-client-secret'], file }, input);
  if (text === undefined || file === undefined) return { clientId: given, secret: text };
  const from = file === STDIN_PATH ? 'standard input' : file;
  const { secret, clientId } = oauthClientFromFile(text, from);
  if (given && clientId && given !== clientId) {
    throw new CommandError(
      `--oauth-client-id ${given} differs from the client_id ${clientId} in --oauth-client-secret-file ${from}`,
      'drop --oauth-client-id to use the file’s, or give the file of that OAuth client',
    );
  }
  return { clientId: given ?? clientId, secret };
}
