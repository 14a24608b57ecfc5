import { Writable } from 'node:stream';
import { type Kysely, type KyselyPlugin, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../test/support/clock.js';
import {
  accountRow,
  createTestDatabase,
  ENGINES,
  insertConnection,
  type TestDatabase,
} from '../../test/support/database.js';
import { createLogger } from '../logger.js';
import { openDatabase } from './database.js';
import type { Database } from './schema.js';
import { USAGE_FLUSH_MS, USAGE_INTERVAL_MS, UsageMarks, type UsageTable } from './usage-marks.js';

const CONFIG_ID = 'cfg_usage';
const CONNECTION_ID = 'conn_usage';
/** A last_used_at far in the past: the WHERE guard would let a write through, so only the in-process memory of marks can stop it. */
const SENTINEL = '2000-01-01T00:00:00.000Z';

const iso = (ms: number) => new Date(ms).toISOString();

/** Counts the UPDATE statements that reach the database, without changing them. */
function countUpdates() {
  const counter = { updates: 0 };
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (args.node.kind === 'UpdateQueryNode') counter.updates++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { counter, plugin };
}

describe.each(ENGINES)('usage marks on %s', (engine) => {
  let db: TestDatabase;
  let sequence = 0;
  const logger = createLogger('silent');

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    const now = iso(Date.now());
    await insertConnection(db.db, CONNECTION_ID, 'USAGE', now);
    await db.db
      .insertInto('mcp_configs')
      .values({ id: CONFIG_ID, name: 'usage', description: '', created_at: now, updated_at: now })
      .execute();
  });
  afterAll(() => db?.close());

  /** Inserts `count` instances with the given last_used_at; returns their ids. */
  async function createInstances(count: number, lastUsedAt: string | null = null): Promise<string[]> {
    const ids = Array.from({ length: count }, () => `inst_${engine}_${sequence++}`);
    const now = iso(Date.now());
    for (let at = 0; at < ids.length; at += 200) {
      await db.db
        .insertInto('mcp_instances')
        .values(
          ids.slice(at, at + 200).map((id) => ({
            id,
            config_id: CONFIG_ID,
            user_identifier: id,
            name: 'default',
            url_secret_hash: `hash_${id}`,
            url_secret_enc: 'v1.x',
            key_id: 'k1',
            last_used_at: lastUsedAt,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
    return ids;
  }

  async function createAccount(lastUsedAt: string | null = null): Promise<string> {
    const id = `ca_${engine}_${sequence++}`;
    await db.db
      .insertInto('connected_accounts')
      .values(accountRow(id, CONNECTION_ID, { status: 'ACTIVE', last_used_at: lastUsedAt }))
      .execute();
    return id;
  }

  async function lastUsed(table: UsageTable, id: string): Promise<string | null> {
    const row = await db.db.selectFrom(table).select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow();
    return row.last_used_at;
  }

  /** Sets last_used_at by hand, as another replica (or a test) would. */
  async function setLastUsed(table: UsageTable, id: string, value: string | null): Promise<void> {
    await db.db.updateTable(table).set({ last_used_at: value }).where('id', '=', id).execute();
  }

  function usageMarks(
    options: { clock?: ReturnType<typeof manualClock>; db?: Kysely<Database>; maxRemembered?: number } = {},
  ) {
    const clock = options.clock ?? manualClock(Date.now());
    const { maxRemembered } = options;
    return { clock, marks: new UsageMarks({ db: options.db ?? db.db, clock, logger, maxRemembered }) };
  }

  it('remembers at most maxRemembered rows over all tables, then starts over and writes a remembered row again', async () => {
    const { marks } = usageMarks({ maxRemembered: 2 });
    const [first = '', third = ''] = await createInstances(2);
    const account = await createAccount();
    marks.mark('mcp_instances', first);
    marks.mark('connected_accounts', account);
    await marks.flush();
    // Both remembered: marking again within the minute notes nothing.
    marks.mark('mcp_instances', first);
    marks.mark('connected_accounts', account);
    expect(marks.pendingCount).toBe(0);
    // A third row, of either table, is past the bound: the memory starts over with it, so
    // the first two are marked (and written) again.
    marks.mark('mcp_instances', third);
    expect(marks.pendingCount).toBe(1);
    await marks.flush();
    marks.mark('mcp_instances', first);
    marks.mark('connected_accounts', account);
    expect(marks.pendingCount).toBe(2);
    await marks.flush();
  });

  it('keeps rows of two tables with the same id apart', async () => {
    const { marks } = usageMarks();
    const [id = ''] = await createInstances(1);
    marks.mark('mcp_instances', id);
    marks.mark('connected_accounts', id);
    marks.mark('mcp_oauth_grants', id);
    expect(marks.pendingCount).toBe(3);
    await marks.flush();
  });

  it('writes nothing when marking, then stamps every marked row of both tables with the clock on flush', async () => {
    const { clock, marks } = usageMarks();
    const [first = '', second = ''] = await createInstances(2);
    const account = await createAccount();
    marks.mark('mcp_instances', first);
    marks.mark('mcp_instances', second);
    marks.mark('connected_accounts', account);
    expect(await lastUsed('mcp_instances', first)).toBeNull();
    expect(await lastUsed('mcp_instances', second)).toBeNull();
    expect(await lastUsed('connected_accounts', account)).toBeNull();

    clock.advance(250);
    await marks.flush();
    expect(await lastUsed('mcp_instances', first)).toBe(iso(clock.now()));
    expect(await lastUsed('mcp_instances', second)).toBe(iso(clock.now()));
    expect(await lastUsed('connected_accounts', account)).toBe(iso(clock.now()));
  });

  it('writes by itself about USAGE_FLUSH_MS after the first mark of a batch', async () => {
    const { clock, marks } = usageMarks();
    const [instance = ''] = await createInstances(1);
    const account = await createAccount();
    const started = Date.now();
    marks.mark('mcp_instances', instance);
    await new Promise((resolve) => setTimeout(resolve, USAGE_FLUSH_MS / 2));
    marks.mark('connected_accounts', account);
    expect(await lastUsed('mcp_instances', instance)).toBeNull();

    await expect
      .poll(() => lastUsed('connected_accounts', account), { timeout: USAGE_FLUSH_MS * 5, interval: 50 })
      .toBe(iso(clock.now()));
    expect(await lastUsed('mcp_instances', instance)).toBe(iso(clock.now()));
    // The timer started at the first mark, not the second; a little slack for timer jitter.
    expect(Date.now() - started).toBeGreaterThanOrEqual(USAGE_FLUSH_MS - 50);
    expect(Date.now() - started).toBeLessThan(USAGE_FLUSH_MS * 2 + 500);
  });

  it('writes a row once a minute however often it is marked, and again once the minute has passed', async () => {
    const { counter, plugin } = countUpdates();
    const { clock, marks } = usageMarks({ db: db.db.withPlugin(plugin) });
    const [instance = ''] = await createInstances(1);
    for (let i = 0; i < 50; i++) marks.mark('mcp_instances', instance);
    await marks.flush();
    const firstStamp = iso(clock.now());
    expect(await lastUsed('mcp_instances', instance)).toBe(firstStamp);
    expect(counter.updates).toBe(1);

    // A stale sentinel would pass the WHERE guard, so if it survives, no write was even attempted.
    await setLastUsed('mcp_instances', instance, SENTINEL);
    clock.advance(USAGE_INTERVAL_MS - 1);
    marks.mark('mcp_instances', instance);
    await marks.flush();
    expect(await lastUsed('mcp_instances', instance)).toBe(SENTINEL);
    expect(counter.updates).toBe(1);

    clock.advance(1);
    marks.mark('mcp_instances', instance);
    await marks.flush();
    expect(await lastUsed('mcp_instances', instance)).toBe(iso(clock.now()));
    expect(counter.updates).toBe(2);
  });

  it('leaves a row another replica marked within the last 30 s and overwrites an older one', async () => {
    const { clock, marks } = usageMarks();
    const recent = iso(clock.now() - 20_000);
    const old = iso(clock.now() - USAGE_INTERVAL_MS / 2 - 1_000);
    const [recentInstance = ''] = await createInstances(1, recent);
    const [oldInstance = ''] = await createInstances(1, old);
    const [neverInstance = ''] = await createInstances(1, null);
    const recentAccount = await createAccount(recent);
    const oldAccount = await createAccount(old);

    marks.mark('mcp_instances', recentInstance);
    marks.mark('mcp_instances', oldInstance);
    marks.mark('mcp_instances', neverInstance);
    marks.mark('connected_accounts', recentAccount);
    marks.mark('connected_accounts', oldAccount);
    await marks.flush();

    const stamp = iso(clock.now());
    expect(await lastUsed('mcp_instances', recentInstance)).toBe(recent);
    expect(await lastUsed('mcp_instances', oldInstance)).toBe(stamp);
    expect(await lastUsed('mcp_instances', neverInstance)).toBe(stamp);
    expect(await lastUsed('connected_accounts', recentAccount)).toBe(recent);
    expect(await lastUsed('connected_accounts', oldAccount)).toBe(stamp);
  });

  it('skips the write for a row seen used within the minute, until the minute has passed', async () => {
    const { counter, plugin } = countUpdates();
    const { clock, marks } = usageMarks({ db: db.db.withPlugin(plugin) });
    // The database says never used, so the WHERE guard would allow the write: only seen() can stop it.
    const [instance = ''] = await createInstances(1, null);
    const seenAt = clock.now() - 10_000;
    marks.seen('mcp_instances', instance, iso(seenAt));
    marks.mark('mcp_instances', instance);
    await marks.flush();
    expect(await lastUsed('mcp_instances', instance)).toBeNull();
    expect(counter.updates).toBe(0);

    clock.advance(USAGE_INTERVAL_MS - 10_000);
    marks.mark('mcp_instances', instance);
    await marks.flush();
    expect(await lastUsed('mcp_instances', instance)).toBe(iso(clock.now()));
    expect(counter.updates).toBe(1);
  });

  it('writes after seen() with null, an unreadable timestamp or one older than a minute', async () => {
    const { clock, marks } = usageMarks();
    const [never = '', garbled = '', old = ''] = await createInstances(3, null);
    const account = await createAccount(null);
    marks.seen('mcp_instances', never, null);
    marks.seen('mcp_instances', garbled, 'not a date');
    marks.seen('mcp_instances', old, iso(clock.now() - USAGE_INTERVAL_MS - 1));
    marks.seen('connected_accounts', account, null);
    for (const id of [never, garbled, old]) marks.mark('mcp_instances', id);
    marks.mark('connected_accounts', account);
    await marks.flush();
    const stamp = iso(clock.now());
    for (const id of [never, garbled, old]) expect(await lastUsed('mcp_instances', id)).toBe(stamp);
    expect(await lastUsed('connected_accounts', account)).toBe(stamp);
  });

  it('moves last_used_at every minute under steady use, although each write lands a flush late', async () => {
    const { counter, plugin } = countUpdates();
    const { clock, marks } = usageMarks({ db: db.db.withPlugin(plugin) });
    const [instance = ''] = await createInstances(1, null);
    for (let minute = 0; minute < 3; minute++) {
      marks.mark('mcp_instances', instance);
      clock.advance(USAGE_FLUSH_MS);
      await marks.flush();
      expect(await lastUsed('mcp_instances', instance)).toBe(iso(clock.now()));
      clock.advance(USAGE_INTERVAL_MS - USAGE_FLUSH_MS);
    }
    expect(counter.updates).toBe(3);
  });

  it('does not let seen() push back a mark this process already made', async () => {
    const { clock, marks } = usageMarks();
    const [instance = ''] = await createInstances(1);
    marks.mark('mcp_instances', instance);
    await marks.flush();
    // A later read reporting a newer use must not extend this process's own minute.
    marks.seen('mcp_instances', instance, iso(clock.now() + 30_000));
    // Past the minute for the WHERE guard too (it wants last_used_at strictly older than a minute).
    clock.advance(USAGE_INTERVAL_MS + 1);
    marks.mark('mcp_instances', instance);
    await marks.flush();
    expect(await lastUsed('mcp_instances', instance)).toBe(iso(clock.now()));
  });

  it('writes all of 1,200 instances marked in one batch in statements of at most 64 ids, letting the event loop run between them', async () => {
    // Event-loop turns, counted by an immediate that keeps scheduling itself; each UPDATE notes the count it ran at.
    let turns = 0;
    const turnsAtUpdate: number[] = [];
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const noting: KyselyPlugin = {
      transformQuery(args) {
        if (args.node.kind === 'UpdateQueryNode') turnsAtUpdate.push(turns);
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const { clock, marks } = usageMarks({ db: db.db.withPlugin(noting) });
    const ids = await createInstances(1_200);
    const account = await createAccount();
    for (const id of ids) marks.mark('mcp_instances', id);
    marks.mark('connected_accounts', account);
    try {
      await marks.flush();
    } finally {
      ticking = false;
    }

    const stamp = iso(clock.now());
    const written = await db.db
      .selectFrom('mcp_instances')
      .select('id')
      .where('id', 'in', ids)
      .where('last_used_at', '=', stamp)
      .execute();
    expect(written).toHaveLength(1_200);
    expect(await lastUsed('connected_accounts', account)).toBe(stamp);
    // 18 × 64 + 32 + 16 instances (power-of-two statement shapes), then one for the account.
    expect(turnsAtUpdate).toHaveLength(21);
    // SQLite runs a statement synchronously: without a pause between them the whole batch is one turn.
    for (let i = 1; i < turnsAtUpdate.length; i++) {
      expect(turnsAtUpdate[i], `statement ${i + 1} ran in the turn of the one before`).toBeGreaterThan(
        turnsAtUpdate[i - 1] ?? 0,
      );
    }
  });

  it('resolves a flush only once earlier batches are stored, even a flush with nothing new', async () => {
    const { clock, marks } = usageMarks();
    const [first = '', second = ''] = await createInstances(2);
    const account = await createAccount();
    marks.mark('mcp_instances', first);
    const writingFirst = marks.flush();
    // Nothing pending of its own: it must still wait for the batch already on its way.
    const empty = marks.flush();
    await empty;
    expect(await lastUsed('mcp_instances', first)).toBe(iso(clock.now()));

    marks.mark('mcp_instances', second);
    const writingSecond = marks.flush();
    marks.mark('connected_accounts', account);
    const writingThird = marks.flush();
    await writingThird;
    expect(await lastUsed('mcp_instances', second)).toBe(iso(clock.now()));
    expect(await lastUsed('connected_accounts', account)).toBe(iso(clock.now()));
    await Promise.all([writingFirst, writingSecond]);
  });

  it('logs a failed write and drops it without rejecting the flush or blocking the next one', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const closed = await openDatabase({ ...db.reopen });
    await closed.close();
    const clock = manualClock(Date.now());
    const failing = new UsageMarks({ db: closed.db, clock, logger: createLogger('warn', sink) });
    const [instance = ''] = await createInstances(1);
    failing.mark('mcp_instances', instance);
    await expect(failing.flush()).resolves.toBeUndefined();
    expect(lines.join('')).toContain('last_used_at marks could not be written');
    expect(await lastUsed('mcp_instances', instance)).toBeNull();

    // The chain of writes is not stuck on the failure.
    const [other = ''] = await createInstances(1);
    failing.mark('mcp_instances', other);
    await expect(failing.flush()).resolves.toBeUndefined();
  });

  // Postgres only: SQLite rewrites a row inside its page whatever the page's fill.
  it.runIf(engine === 'postgres')(
    'updates full-sized rows in their own page (HOT) on Postgres, so a mark adds no index entries',
    async () => {
      // Migration 0011 leaves a fifth of each page of the usage-marked tables free.
      const markedTables = ['mcp_instances', 'connected_accounts', 'mcp_oauth_grants'];
      const relations = await sql<{ relname: string; reloptions: string[] | null }>`
        select relname, reloptions from pg_class
        where relnamespace = current_schema()::regnamespace and relname in (${sql.join(markedTables)})
      `.execute(db.db);
      expect(Object.fromEntries(relations.rows.map((row) => [row.relname, row.reloptions]))).toEqual(
        Object.fromEntries(markedTables.map((table) => [table, ['fillfactor=80']])),
      );

      // Accounts with tokens of a real size, inserted in one go: every page but the last holds
      // as many rows as fit in the fill factor. One row in ten is marked, so about one per page.
      const ids = Array.from({ length: 200 }, () => `ca_hot_${sequence++}`);
      await db.db
        .insertInto('connected_accounts')
        .values(ids.map((id) => accountRow(id, CONNECTION_ID, { status: 'ACTIVE', tokens_enc: 'x'.repeat(700) })))
        .execute();
      const marked = ids.filter((_, index) => index % 10 === 5);
      const counts = await db.db.transaction().execute(async (trx) => {
        // This backend's counts not yet sent to the statistics collector (on Postgres 15 they
        // can include earlier transactions of the connection, so the difference is taken).
        const read = async () => {
          const result = await sql<{ updated: string | number; hot: string | number }>`
            select pg_stat_get_xact_tuples_updated('connected_accounts'::regclass) as updated,
                   pg_stat_get_xact_tuples_hot_updated('connected_accounts'::regclass) as hot
          `.execute(trx);
          const row = result.rows[0];
          return { updated: Number(row?.updated), hot: Number(row?.hot) };
        };
        const before = await read();
        const marks = new UsageMarks({ db: trx, clock: manualClock(Date.now()), logger });
        for (const id of marked) marks.mark('connected_accounts', id);
        await marks.flush();
        const after = await read();
        return { updated: after.updated - before.updated, hot: after.hot - before.hot };
      });
      expect(counts).toEqual({ updated: marked.length, hot: marked.length });
    },
  );
});
