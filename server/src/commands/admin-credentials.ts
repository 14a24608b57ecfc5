import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError } from './command-error.js';
import { cliCommand } from './invocation.js';

export interface ClientCredentials {
  client_id: string;
  client_secret: string;
}

/**
 * The admin credentials the first start wrote to `<dataDir>/admin-credentials.json`;
 * `given` is the `--data-dir` the user typed, repeated in the hints.
 */
export function readAdminCredentials(dataDir: string, given?: string): ClientCredentials {
  const file = join(dataDir, 'admin-credentials.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CommandError(
      `no admin credentials in ${file}`,
      `pass --client-id and --client-secret-file (create some with \`${cliCommand('clients create', given)}\`), or --data-dir with the server’s data directory (the demo’s is .data/demo)`,
    );
  }
  const { client_id, client_secret } = (parsed ?? {}) as Partial<ClientCredentials>;
  if (typeof client_id !== 'string' || typeof client_secret !== 'string') {
    throw new CommandError(
      `${file} does not hold client_id and client_secret`,
      `create new credentials with \`${cliCommand('clients create', given)}\``,
    );
  }
  return { client_id, client_secret };
}
