import { parseArgs } from 'node:util';
import { loadConfig, productionReason } from '../config.js';
import { loadEncryptor } from '../crypto/envelope.js';
import { reencryptAll } from '../crypto/reencrypt.js';
import { openDatabase } from '../db/database.js';
import { CommandError, parseOptions } from './command-error.js';
import { CLI, DEFAULT_DATA_DIR, withDataDir } from './invocation.js';

const KEYS_USAGE = `${CLI} keys reencrypt [--data-dir DIR]`;

export const KEYS_HELP = `${CLI} keys — encryption keys of the stored secrets

Usage:
  ${KEYS_USAGE}

reencrypt: after rotating SWITCHBOARD_ENCRYPTION_KEY (the new key under a new id, the old
key in SWITCHBOARD_ENCRYPTION_KEYS_OLD), seal every stored secret with the current key. It
fails if secrets are still under an old key afterwards: a replica still runs with it.

Options:
  --data-dir DIR   the server's data directory (default: SWITCHBOARD_DATA_DIR, or ${DEFAULT_DATA_DIR})
  --help           this help
Configuration: DATABASE_URL and the key variables as for \`${CLI} start\`.`;

/** `npx switchboard keys reencrypt`: after rotating SWITCHBOARD_ENCRYPTION_KEY (old key in SWITCHBOARD_ENCRYPTION_KEYS_OLD). */
export async function keysCommand(
  env: Record<string, string | undefined>,
  args: string[],
  out: (text: string) => void = (text) => process.stdout.write(text),
): Promise<void> {
  const { values, positionals } = parseOptions(
    () =>
      parseArgs({
        args,
        allowPositionals: true,
        options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', default: false } },
        strict: true,
      }),
    `${CLI} keys --help`,
    KEYS_USAGE,
  );
  const [sub, ...extra] = positionals;
  if (values.help || !sub) {
    out(`${KEYS_HELP}\n`);
    return;
  }
  if (sub !== 'reencrypt') {
    throw new CommandError(`unknown subcommand "keys ${sub}"`, `see \`${CLI} keys --help\``);
  }
  if (extra.length > 0) {
    throw new CommandError(`unexpected argument "${extra[0]}"`, `see \`${CLI} keys --help\``);
  }
  const config = loadConfig(withDataDir(env, values['data-dir']));
  const encryptor = loadEncryptor(config.encryption, config.dataDir, (m) => process.stderr.write(`${m}\n`), {
    production: productionReason(config),
  });
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const { reencrypted, remaining } = await reencryptAll(handle.db, encryptor);
    const total = Object.values(reencrypted).reduce((a, b) => a + b, 0);
    out(`Re-encrypted ${total} secret(s) with key ${encryptor.currentKeyId}: ${JSON.stringify(reencrypted)}\n`);
    if (remaining.length > 0) {
      const left = remaining.reduce((sum, count) => sum + count.rows, 0);
      const where = remaining.map((count) => `${count.table}: ${count.rows} under "${count.keyId}"`).join(', ');
      throw new CommandError(
        `${left} secret(s) are still sealed with an older key after the pass (${where}); another replica may still be writing with the old key`,
        `give every replica SWITCHBOARD_ENCRYPTION_KEY with id "${encryptor.currentKeyId}" and restart them, then run \`${CLI} keys reencrypt\` again; keep the old key in SWITCHBOARD_ENCRYPTION_KEYS_OLD until it reports none`,
      );
    }
  } finally {
    await handle.close();
  }
}
