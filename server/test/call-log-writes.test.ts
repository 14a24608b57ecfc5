import { afterEach, describe, expect, it } from 'vitest';
import { ToolCallLog, type ToolCallLogRow } from '../src/execution/call-log.js';
import { createLogger } from '../src/logger.js';
import { createTestDatabase, ENGINES, type TestDatabase } from './support/database.js';

const row = (i: number, extra: Partial<ToolCallLogRow> = {}): ToolCallLogRow => ({
  id: `tcl_${String(i).padStart(6, '0')}`,
  execution_id: `exec_${i}`,
  tool_name: 'gmail_fetch_mails',
  provider: 'gmail',
  connection_id: null,
  connection_name: 'MY_GMAIL',
  connected_account_id: null,
  identifier: `user-${i}`,
  status: i % 3 ? 'SUCCESS' : 'FAILED',
  error_code: i % 3 ? null : 'provider_error',
  duration_ms: i,
  source: 'MCP',
  instance_id: null,
  created_at: new Date(Date.UTC(2026, 10, 29, 0, 0, i)).toISOString(),
  ...extra,
});

describe.each(ENGINES)('tool call log batches (%s)', (engine) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('writes every row of a batch, in chunks of each size, with left-out columns at their defaults', async () => {
    database = await createTestDatabase(engine);
    const log = new ToolCallLog({ db: database.db, logger: createLogger('silent') });
    // 47 rows: chunks of 32, 8, 4, 2 and 1, each with its own kept INSERT text; twice, so the texts are reused.
    const rows: ToolCallLogRow[] = [];
    for (let i = 0; i < 94; i++) {
      const extra: Partial<ToolCallLogRow> =
        i % 2
          ? { attempt: 1 + (i % 4), error_message: `failed ${i}`, argument_summary: `{"i":${i}}` }
          : { attempt: undefined, error_message: undefined, argument_summary: undefined };
      rows.push(row(i, extra));
    }
    for (const r of rows.slice(0, 47)) log.record(r);
    await log.flush();
    for (const r of rows.slice(47)) log.record(r);
    await log.close();

    const stored = await database.db.selectFrom('tool_call_logs').selectAll().orderBy('id').execute();
    expect(stored).toHaveLength(94);
    for (const [i, got] of stored.entries()) {
      const sent = rows[i] as ToolCallLogRow;
      expect(got).toEqual({
        ...sent,
        attempt: sent.attempt ?? 1,
        error_message: sent.error_message ?? null,
        argument_summary: sent.argument_summary ?? null,
      });
    }
  });
});
