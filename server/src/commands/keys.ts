import { loadConfig, productionReason } from '../config.js';
import { loadEncryptor } from '../crypto/envelope.js';
import { reencryptAll } from '../crypto/reencrypt.js';
import { openDatabase } from '../db/database.js';

/** `switchboard keys reencrypt`: after rotating SWITCHBOARD_ENCRYPTION_KEY (old key in SWITCHBOARD_ENCRYPTION_KEYS_OLD). */
export async function reencryptCommand(env: Record<string, string | undefined>): Promise<void> {
  const config = loadConfig(env);
  const encryptor = loadEncryptor(config.encryption, config.dataDir, (m) => process.stderr.write(`${m}\n`), {
    production: productionReason(config),
  });
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const counts = await reencryptAll(handle.db, encryptor);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `Re-encrypted ${total} secret(s) with key ${encryptor.currentKeyId}: ${JSON.stringify(counts)}\n`,
    );
  } finally {
    await handle.close();
  }
}
