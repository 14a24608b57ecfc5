import { type Insertable, type KyselyPlugin, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../test/support/clock.js';
import {
  accountRow,
  createTestDatabase,
  ENGINES,
  insertConnection,
  type TestDatabase,
} from '../../test/support/database.js';
import { loadConfig } from '../config.js';
import type { Database } from '../db/schema.js';
import { createLogger } from '../logger.js';
import { EXPIRED_GRACE_MS, PRUNE_BATCH_ROWS, Retention } from './retention.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ACCOUNT = 'ca_retention';
const logger = createLogger('silent');

describe.each(ENGINES)('pruning old rows on %s', (engine) => {
  let db: TestDatabase;
  const clock = manualClock();
  const iso = (offsetMs: number) => new Date(clock.now() + offsetMs).toISOString();
  let counter = 0;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await insertConnection(db.db, 'conn_retention', 'RETENTION', iso(0));
    await db.db.insertInto('connected_accounts').values(accountRow(ACCOUNT, 'conn_retention')).execute();
  });
  afterEach(async () => {
    for (const table of [
      'auth_requests',
      'auth_links',
      'user_verifications',
      'tool_call_logs',
      'account_events',
    ] as const)
      await db.db.deleteFrom(table).execute();
  });
  afterAll(async () => {
    await db?.close();
  });

  async function link(expiresIn: number, fields: Partial<Insertable<Database['auth_links']>> = {}) {
    const id = `lnk_${counter++}`;
    await db.db
      .insertInto('auth_links')
      .values({
        id,
        token_hash: `hash_${id}`,
        connected_account_id: ACCOUNT,
        expires_at: iso(expiresIn),
        used_at: null,
        revoked_at: null,
        user_verify_url: null,
        verify_state: null,
        created_at: iso(expiresIn - HOUR),
        ...fields,
      })
      .execute();
    return id;
  }

  async function request(expiresIn: number) {
    const id = `req_${counter++}`;
    await db.db
      .insertInto('auth_requests')
      .values({
        id,
        state_hash: `state_${id}`,
        connected_account_id: ACCOUNT,
        code_verifier_enc: 'x',
        key_id: 'k1',
        auth_link_id: null,
        expires_at: iso(expiresIn),
        used_at: null,
        created_at: iso(expiresIn - 600_000),
      })
      .execute();
    return id;
  }

  async function verification(expiresIn: number) {
    const id = `uv_${counter++}`;
    await db.db
      .insertInto('user_verifications')
      .values({
        id,
        request_hash: `hash_${id}`,
        connected_account_id: ACCOUNT,
        provider_subject: null,
        provider_account: null,
        expires_at: iso(expiresIn),
        used_at: null,
        created_at: iso(expiresIn - 600_000),
      })
      .execute();
    return id;
  }

  function logRow(age: number): Insertable<Database['tool_call_logs']> {
    const id = `log_${counter++}`;
    return {
      id,
      execution_id: `exec_${id}`,
      tool_name: 'gmail_fetch_mails',
      provider: 'gmail',
      connection_id: null,
      connection_name: null,
      connected_account_id: null,
      identifier: null,
      status: 'SUCCESS',
      error_code: null,
      duration_ms: 1,
      source: 'MCP',
      instance_id: null,
      created_at: iso(-age),
    };
  }

  async function logs(...ages: number[]) {
    const rows = ages.map(logRow);
    for (let at = 0; at < rows.length; at += 200)
      await db.db
        .insertInto('tool_call_logs')
        .values(rows.slice(at, at + 200))
        .execute();
    return rows.map((r) => r.id);
  }

  async function events(...ages: number[]) {
    const rows = ages.map((age) => {
      const id = `evt_${counter++}`;
      return {
        id,
        connected_account_id: ACCOUNT,
        connection_id: 'conn_retention',
        identifier: ACCOUNT,
        type: 'account.connected',
        detail: '{}',
        created_at: iso(-age),
      };
    });
    for (const row of rows) await db.db.insertInto('account_events').values(row).execute();
    return rows.map((r) => r.id);
  }

  /** The settings a start gets by default. */
  const defaults = { logRetentionDays: 30, accountEventRetentionDays: 90 };

  const ids = async (
    table: 'auth_links' | 'auth_requests' | 'user_verifications' | 'tool_call_logs' | 'account_events',
  ) => (await db.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => r.id).sort();

  it('deletes links and auth requests a day after they expire, and audit rows older than the retention', async () => {
    await link(-EXPIRED_GRACE_MS - HOUR);
    await link(-EXPIRED_GRACE_MS - HOUR, { used_at: iso(-2 * DAY) });
    const recentlyExpired = await link(-HOUR);
    const usedButValid = await link(HOUR, { used_at: iso(-1000) });
    await request(-EXPIRED_GRACE_MS - 1);
    const openRequest = await request(600_000);
    await verification(-EXPIRED_GRACE_MS - 1);
    const openVerification = await verification(-HOUR);
    await logs(31 * DAY, 30 * DAY + 1);
    const kept = await logs(29 * DAY, HOUR);

    const pruned = await new Retention({ db: db.db, clock, logger }, defaults).pruneOnce();

    expect(pruned).toEqual({
      authRequests: 1,
      authLinks: 2,
      userVerifications: 1,
      toolCallLogs: 2,
      accountEvents: 0,
      mcpOAuth: 0,
    });
    expect(await ids('user_verifications')).toEqual([openVerification]);
    expect(await ids('auth_links')).toEqual([recentlyExpired, usedButValid].sort());
    expect(await ids('auth_requests')).toEqual([openRequest]);
    expect(await ids('tool_call_logs')).toEqual(kept.sort());
  });

  it('keeps audit rows forever with a retention of 0 days', async () => {
    const kept = await logs(3_000 * DAY);
    await new Retention({ db: db.db, clock, logger }, { ...defaults, logRetentionDays: 0 }).pruneOnce();
    expect(await ids('tool_call_logs')).toEqual(kept);
  });

  it('deletes account history older than its retention (90 days by default), and keeps it forever with 0 days', async () => {
    expect(loadConfig({}).accountEventRetentionDays).toBe(90);
    expect(loadConfig({ SWITCHBOARD_ACCOUNT_EVENT_RETENTION_DAYS: '0' }).accountEventRetentionDays).toBe(0);
    await events(91 * DAY, 90 * DAY + 1);
    const recent = await events(89 * DAY, HOUR);
    const forever = new Retention({ db: db.db, clock, logger }, { ...defaults, accountEventRetentionDays: 0 });
    expect((await forever.pruneOnce()).accountEvents).toBe(0);
    expect(await ids('account_events')).toHaveLength(4);

    const pruned = await new Retention({ db: db.db, clock, logger }, defaults).pruneOnce();
    expect(pruned.accountEvents).toBe(2);
    expect(await ids('account_events')).toEqual(recent.sort());
  });

  it(`deletes in statements of at most ${PRUNE_BATCH_ROWS} rows`, async () => {
    const total = 2 * PRUNE_BATCH_ROWS + 7;
    await logs(...Array.from({ length: total }, () => 40 * DAY));
    let deletes = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        if (args.node.kind === 'RawNode' && /^\s*delete from/i.test(args.node.sqlFragments.join(''))) deletes++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const pruned = await new Retention({ db: db.db.withPlugin(counting), clock, logger }, defaults).pruneOnce();
    expect(pruned.toolCallLogs).toBe(total);
    // Three batches of audit rows, plus one (empty) statement each for requests, links, user
    // verifications, account events, the four MCP OAuth tables and the registered MCP OAuth clients.
    expect(deletes).toBe(3 + 4 + 5);
    expect(await ids('tool_call_logs')).toEqual([]);
  });

  it('deletes each row once when several replicas prune at the same time', async () => {
    await logs(...Array.from({ length: PRUNE_BATCH_ROWS + 50 }, () => 40 * DAY));
    await link(-2 * DAY);
    const replicas = [1, 2, 3].map(() => new Retention({ db: db.db, clock, logger }, defaults));
    const results = await Promise.all(replicas.map((r) => r.pruneOnce()));
    expect(results.reduce((sum, r) => sum + r.toolCallLogs, 0)).toBe(PRUNE_BATCH_ROWS + 50);
    expect(results.reduce((sum, r) => sum + r.authLinks, 0)).toBe(1);
    expect(await ids('tool_call_logs')).toEqual([]);
  });

  it('prunes on its interval once started, and stops', async () => {
    await logs(40 * DAY);
    const retention = new Retention({ db: db.db, clock, logger }, defaults);
    retention.start(20);
    const started = Date.now();
    while ((await ids('tool_call_logs')).length && Date.now() - started < 5_000)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await retention.stop();
    expect(await ids('tool_call_logs')).toEqual([]);
  });
  it('finds the rows it deletes through an index on their time column, not a table scan', async () => {
    for (const [table, column] of [
      ['auth_links', 'expires_at'],
      ['auth_requests', 'expires_at'],
      ['user_verifications', 'expires_at'],
      ['account_events', 'created_at'],
    ] as const) {
      if (engine === 'sqlite') {
        const plan = await sql<{
          detail: string;
        }>`explain query plan select id from ${sql.table(table)} where ${sql.ref(column)} < ${iso(0)} limit 500`.execute(
          db.db,
        );
        expect(plan.rows.map((row) => row.detail).join(' | '), table).toContain(`USING INDEX ${table}_${column}`);
      } else {
        const index = await sql<{
          indexdef: string;
        }>`select indexdef from pg_indexes where schemaname = current_schema() and indexname = ${`${table}_${column}`}`.execute(
          db.db,
        );
        expect(index.rows[0]?.indexdef, table).toContain(`(${column})`);
      }
    }
  });
});
