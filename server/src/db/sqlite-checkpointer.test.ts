import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { BACKSTOP_AUTOCHECKPOINT_PAGES } from './sqlite-checkpointer.js';

describe('SQLite checkpoints off the event loop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-checkpoint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves the main connection only a backstop and copies the WAL back from its own thread', async () => {
    const handle = await openDatabase({ dataDir: dir });
    try {
      const pages = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(handle.db);
      expect(pages.rows[0]?.wal_autocheckpoint).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
      const now = new Date().toISOString();
      for (let batch = 0; batch < 20; batch++) {
        await handle.db
          .insertInto('tool_call_logs')
          .values(
            Array.from({ length: 32 }, (_, i) => ({
              id: `tcl_${batch}_${i}`,
              execution_id: `exec_${batch}_${i}`,
              tool_name: 'gmail_fetch_mails',
              provider: null,
              connection_id: null,
              connection_name: null,
              connected_account_id: null,
              identifier: null,
              status: 'SUCCESS' as const,
              error_code: null,
              duration_ms: 1,
              source: 'API' as const,
              instance_id: null,
              created_at: now,
            })),
          )
          .execute();
      }
      // Far below the backstop, so only the thread can have checkpointed these frames.
      expect(statSync(join(dir, 'switchboard.db-wal')).size).toBeGreaterThan(0);
      const deadline = Date.now() + 10_000;
      while ((handle.checkpoints?.lastFrames ?? 0) === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(handle.checkpoints?.lastError).toBeUndefined();
      expect(handle.checkpoints?.lastFrames).toBeGreaterThan(0);
      const rows = await handle.db
        .selectFrom('tool_call_logs')
        .select(({ fn }) => fn.countAll().as('n'))
        .execute();
      expect(Number(rows[0]?.n)).toBe(640);
    } finally {
      await handle.close();
    }
  });

  it('has no thread for an in-memory database', async () => {
    const handle = await openDatabase({ dataDir: dir, sqliteFile: ':memory:' });
    expect(handle.checkpoints).toBeUndefined();
    await handle.close();
  });
});
