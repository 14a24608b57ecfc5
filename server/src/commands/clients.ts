import { createApiClient } from '../auth/api-clients.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';

/** `switchboard clients create [--name NAME]`: prints new management credentials once. */
export async function createClientCommand(env: Record<string, string | undefined>, args: string[]): Promise<void> {
  const nameIndex = args.indexOf('--name');
  const name = nameIndex >= 0 ? args[nameIndex + 1] : 'cli';
  if (!name) throw new Error('--name needs a value');
  const config = loadConfig(env);
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const client = await createApiClient(handle.db, systemClock, name);
    process.stdout.write(
      `Created API client "${name}". The secret is shown only now:\n  client_id:     ${client.client_id}\n  client_secret: ${client.client_secret}\n`,
    );
  } finally {
    await handle.close();
  }
}
