import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEncryptor } from '../../src/crypto/envelope.js';
import { AppError } from '../../src/errors.js';
import type { ConfigDetail } from '../../src/mcp/configs.js';
import { DEFAULT_INSTANCE_NAME, type InstanceRow, instanceUrl } from '../../src/mcp/instances.js';
import { type ManualClock, manualClock } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { IN_PROCESS_URL, type Stack, startStack, TEST_ENCRYPTION_KEY } from '../support/stack.js';
import { StatementHook } from '../support/statement-hook.js';
import { createSeedConfig } from './support.js';

const START = Date.UTC(2026, 10, 24, 9, 0, 0);
const SECOND = 1_000;
/** More than the change feed's poll interval: a replica's clock moved this far reads the versions again. */
const PAST_POLL = 1_000;

/** The code and message of the AppError `pending` rejects with (fails when it does not). */
async function refusal(pending: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await pending.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  const { code, message } = error as AppError;
  return { code, message };
}

/** The error `pending` rejects with (fails when it resolves). */
async function rejection(pending: Promise<unknown>): Promise<unknown> {
  const outcome = await pending.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  expect(outcome.resolved).toBe(false);
  return outcome.resolved ? undefined : outcome.error;
}

/** Records the kind and table of every statement while `recording`, so a test can say which writes a call made. */
function statementRecorder() {
  const state = { recording: false, statements: [] as string[] };
  const plugin: KyselyPlugin = {
    transformQuery({ node }) {
      if (state.recording) {
        const text = JSON.stringify(node);
        if (!text.includes('"change_versions"')) {
          const table = /"identifier":\{"kind":"IdentifierNode","name":"(\w+)"\}/.exec(text)?.[1] ?? '?';
          state.statements.push(`${node.kind}:${table}`);
        }
      }
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  const during = async <T>(work: () => Promise<T>): Promise<{ statements: string[]; result: T }> => {
    state.statements = [];
    state.recording = true;
    try {
      return { statements: state.statements, result: await work() };
    } finally {
      state.recording = false;
    }
  };
  return { plugin, during };
}

/** The secret of an instance URL, read independently of the module: the part after /mcp/i/. */
function secretOf(url: string): string {
  const prefix = `${IN_PROCESS_URL}/mcp/i/`;
  expect(url.startsWith(prefix)).toBe(true);
  return url.slice(prefix.length);
}

/**
 * Per-user MCP instances, called directly on a real stack's services (a real database, the
 * change feed, the targets lookup) with a clock moved by hand: the URL secret and how it is
 * stored, ensure (also under a race), listing, update, delete and rotation, and what a second
 * replica on the same database sees after each write.
 */
describe('MCP instances', () => {
  let database: TestDatabase;
  let stack: Stack;
  let clock: ManualClock;
  let configA: ConfigDetail;
  let configB: ConfigDetail;
  /** A second connection to the SQLite file: another replica's writes, placed between two statements. */
  let otherProcess: SQLite.Database;
  const recorder = statementRecorder();
  /** Fires once, after the next ensure-lookup of an instance by config name returns. */
  const afterLookup = new StatementHook((node) => {
    const text = JSON.stringify(node);
    return node.kind === 'SelectQueryNode' && text.includes('"mcp_instances"') && text.includes('"mcp_configs"');
  });
  /** The module's encryption as a reader of the table would undo it, with the test's own key. */
  const encryptor = createEncryptor(TEST_ENCRYPTION_KEY);

  const instances = () => stack.services.mcpInstances;
  /** Puts the clock at START + ms (backwards too), so creation times can be chosen. */
  const at = (ms: number) => clock.advance(START + ms - clock.now());
  const iso = (ms: number) => new Date(START + ms).toISOString();
  const stored = (id: string) =>
    database.db.selectFrom('mcp_instances').selectAll().where('id', '=', id).executeTakeFirst();

  beforeAll(async () => {
    // SQLite: the race is placed with a second connection to the file (the module has no
    // engine-specific path).
    database = await createTestDatabase('sqlite');
    otherProcess = new SQLite(join(database.dataDir, 'switchboard.db'));
    otherProcess.pragma('foreign_keys = ON');
    clock = manualClock(START);
    stack = await startStack({
      database: { ...database, db: database.db.withPlugin(recorder.plugin).withPlugin(afterLookup.plugin) },
      clock,
    });
    await createSeedConfig(stack, 'rules-a');
    await createSeedConfig(stack, 'rules-b');
    configA = await stack.services.mcpConfigs.getByName('rules-a');
    configB = await stack.services.mcpConfigs.getByName('rules-b');
  });
  afterAll(async () => {
    otherProcess?.close();
    await stack?.close();
    await database?.close();
  });

  describe('the URL secret', () => {
    it('is 32 random bytes in base64url, different for every instance', async () => {
      const secrets = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: `entropy-${i}` });
        const secret = secretOf(instances().url(row));
        expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const bytes = Buffer.from(secret, 'base64url');
        expect(bytes.length).toBe(32);
        expect(bytes.toString('base64url')).toBe(secret);
        secrets.add(secret);
      }
      expect(secrets.size).toBe(20);
    });

    it('is stored only as its SHA-256 digest and a ciphertext bound to the instance id', async () => {
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'stored-user' });
      const secret = secretOf(instances().url(row));
      const read = await stored(row.id);
      expect(read).toEqual(row);
      expect(read?.url_secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
      expect(read?.key_id).toBe(encryptor.currentKeyId);
      expect(
        encryptor.decrypt(read?.url_secret_enc ?? '', read?.key_id ?? '', `mcp_instances:${row.id}:url_secret`),
      ).toBe(secret);
      // Bound to its row: the same ciphertext under another instance's id does not open.
      expect(() =>
        encryptor.decrypt(read?.url_secret_enc ?? '', read?.key_id ?? '', 'mcp_instances:inst_other:url_secret'),
      ).toThrow();
      for (const [column, value] of Object.entries(read ?? {})) {
        expect({ column, holdsSecret: String(value).includes(secret) }).toEqual({ column, holdsSecret: false });
      }
    });

    it('makes the URL the public URL plus /mcp/i/ and the secret decrypted from the row', async () => {
      expect(instanceUrl('https://switchboard.example.com', 'abc')).toBe('https://switchboard.example.com/mcp/i/abc');
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'url-user' });
      const read = (await stored(row.id)) as InstanceRow;
      const secret = encryptor.decrypt(read.url_secret_enc, read.key_id, `mcp_instances:${row.id}:url_secret`);
      expect(stack.services.config.publicUrl).toBe(IN_PROCESS_URL);
      expect(instances().url(read)).toBe(`${IN_PROCESS_URL}/mcp/i/${secret}`);
    });

    it('resolves through the targets lookup to its config and user', async () => {
      const { row } = await instances().ensure({ configName: 'rules-b', userIdentifier: 'resolved-user' });
      const target = await stack.services.mcpTargets.byInstanceSecret(secretOf(instances().url(row)));
      expect(target).toMatchObject({
        configId: configB.id,
        configName: 'rules-b',
        userIdentifier: 'resolved-user',
        instanceId: row.id,
      });
    });
  });

  describe('ensure', () => {
    it('creates the default-named instance at the clock time and returns the same row again', async () => {
      at(5 * SECOND);
      const first = await instances().ensure({ configName: 'rules-a', userIdentifier: 'ensure-user' });
      expect(DEFAULT_INSTANCE_NAME).toBe('default');
      expect(first.created).toBe(true);
      expect(first.config).toEqual(configA);
      expect(first.row).toMatchObject({
        id: expect.stringMatching(/^inst_[a-z2-7]{24}$/),
        config_id: configA.id,
        user_identifier: 'ensure-user',
        name: 'default',
        last_used_at: null,
        created_at: iso(5 * SECOND),
        updated_at: iso(5 * SECOND),
      });
      expect(await stored(first.row.id)).toEqual(first.row);

      at(9 * SECOND);
      const again = await instances().ensure({ configName: 'rules-a', userIdentifier: 'ensure-user' });
      expect(again).toEqual({ row: first.row, config: configA, created: false });
      const named = await instances().ensure({ configName: 'rules-a', userIdentifier: 'ensure-user', name: 'default' });
      expect(named).toEqual({ row: first.row, config: configA, created: false });
    });

    it('finds an existing instance by the config name in any case, with its one read', async () => {
      const first = await instances().ensure({ configName: 'rules-a', userIdentifier: 'case-user' });
      const { statements, result: again } = await recorder.during(() =>
        instances().ensure({ configName: 'RULES-A', userIdentifier: 'case-user' }),
      );
      expect(again).toEqual({ row: first.row, config: configA, created: false });
      // Not found by a case-sensitive lookup and then again after a failed insert.
      expect(statements).toEqual(['SelectQueryNode:mcp_instances']);
    });

    it('answers an existing instance with reads only, one for the instance', async () => {
      await instances().ensure({ configName: 'rules-a', userIdentifier: 'reads-user', name: 'phone' });
      const { statements, result } = await recorder.during(() =>
        instances().ensure({ configName: 'rules-a', userIdentifier: 'reads-user', name: 'phone' }),
      );
      expect(result.created).toBe(false);
      expect(statements).toEqual(['SelectQueryNode:mcp_instances']);
    });

    it('makes a distinct instance for another user, name or config', async () => {
      const base = await instances().ensure({ configName: 'rules-a', userIdentifier: 'triple-user', name: 'x' });
      const otherUser = await instances().ensure({ configName: 'rules-a', userIdentifier: 'triple-user-2', name: 'x' });
      const otherName = await instances().ensure({ configName: 'rules-a', userIdentifier: 'triple-user', name: 'y' });
      const otherConfig = await instances().ensure({ configName: 'rules-b', userIdentifier: 'triple-user', name: 'x' });
      expect([otherUser.created, otherName.created, otherConfig.created]).toEqual([true, true, true]);
      const ids = [base, otherUser, otherName, otherConfig].map((e) => e.row.id);
      expect(new Set(ids).size).toBe(4);
      const secrets = [base, otherUser, otherName, otherConfig].map((e) => e.row.url_secret_hash);
      expect(new Set(secrets).size).toBe(4);
      expect(otherUser.row).toMatchObject({ config_id: configA.id, user_identifier: 'triple-user-2', name: 'x' });
      expect(otherName.row).toMatchObject({ config_id: configA.id, user_identifier: 'triple-user', name: 'y' });
      expect(otherConfig.row).toMatchObject({ config_id: configB.id, user_identifier: 'triple-user', name: 'x' });
      expect(otherConfig.config).toEqual(configB);
    });

    it('makes one row for concurrent ensures of one triple', async () => {
      const all = await Promise.all(
        Array.from({ length: 8 }, () =>
          instances().ensure({ configName: 'rules-b', userIdentifier: 'concurrent-user', name: 'race' }),
        ),
      );
      const rows = await database.db
        .selectFrom('mcp_instances')
        .selectAll()
        .where('user_identifier', '=', 'concurrent-user')
        .execute();
      expect(rows).toHaveLength(1);
      for (const ensured of all) expect(ensured.row).toEqual(rows[0]);
      expect(all.filter((e) => e.created)).toHaveLength(1);
    });

    it("answers the winner's row when another replica inserts between the lookup and the insert", async () => {
      const secret = randomBytes(32).toString('base64url');
      const id = `inst_${'w'.repeat(24)}`;
      const sealed = encryptor.encrypt(secret, `mcp_instances:${id}:url_secret`);
      const winner: InstanceRow = {
        id,
        config_id: configA.id,
        user_identifier: 'raced-user',
        name: 'default',
        url_secret_hash: createHash('sha256').update(secret).digest('hex'),
        url_secret_enc: sealed.ciphertext,
        key_id: sealed.keyId,
        last_used_at: null,
        created_at: iso(-SECOND),
        updated_at: iso(-SECOND),
      };
      afterLookup.next = () => {
        otherProcess
          .prepare(
            `INSERT INTO mcp_instances (${Object.keys(winner).join(', ')}) VALUES (${Object.keys(winner)
              .map((key) => `@${key}`)
              .join(', ')})`,
          )
          .run(winner);
      };
      const loser = await instances().ensure({ configName: 'rules-a', userIdentifier: 'raced-user' });
      expect(afterLookup.next).toBeUndefined();
      expect(loser).toEqual({ row: winner, config: configA, created: false });
      expect(instances().url(loser.row)).toBe(`${IN_PROCESS_URL}/mcp/i/${secret}`);
    });

    it('passes on an insert error that is not the race (the config deleted meanwhile)', async () => {
      await createSeedConfig(stack, 'rules-doomed');
      await instances().ensure({ configName: 'rules-doomed', userIdentifier: 'warm-user' });
      afterLookup.next = () => {
        // Another replica's delete, which this process has not polled yet.
        otherProcess.prepare(`DELETE FROM mcp_configs WHERE name = 'rules-doomed'`).run();
      };
      const { statements, result: error } = await recorder.during(() =>
        rejection(instances().ensure({ configName: 'rules-doomed', userIdentifier: 'doomed-user' })),
      );
      expect(afterLookup.next).toBeUndefined();
      // No look for a winner's row: only a unique violation means another caller won.
      expect(statements).toEqual(['SelectQueryNode:mcp_instances', 'InsertQueryNode:mcp_instances']);
      expect(error).not.toBeInstanceOf(AppError);
      expect((error as { code?: string }).code).toBe('SQLITE_CONSTRAINT_FOREIGNKEY');
      const left = await database.db
        .selectFrom('mcp_instances')
        .selectAll()
        .where('user_identifier', 'in', ['doomed-user', 'warm-user'])
        .execute();
      expect(left).toEqual([]);
    });

    it("passes on a unique violation when no winner's row is there to answer", async () => {
      await instances().ensure({ configName: 'rules-a', userIdentifier: 'ghost-seed' });
      // A unique violation whose row cannot be found: the insert's own trigger copies an
      // existing row (a unique violation), as if the winner were deleted by then.
      otherProcess.exec(
        `CREATE TRIGGER ghost_insert BEFORE INSERT ON mcp_instances WHEN NEW.user_identifier = 'ghost-user'
           BEGIN INSERT INTO mcp_instances SELECT * FROM mcp_instances WHERE user_identifier = 'ghost-seed'; END`,
      );
      try {
        const error = await rejection(instances().ensure({ configName: 'rules-a', userIdentifier: 'ghost-user' }));
        expect(error).not.toBeInstanceOf(AppError);
        expect((error as { code?: string }).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
      } finally {
        otherProcess.exec('DROP TRIGGER ghost_insert');
      }
      const ghosts = await database.db
        .selectFrom('mcp_instances')
        .selectAll()
        .where('user_identifier', '=', 'ghost-user')
        .execute();
      expect(ghosts).toEqual([]);
    });

    it('never answers an instance of a newer config with the stale config of the same name cached here', async () => {
      await createSeedConfig(stack, 'rules-stale');
      const stale = await stack.services.mcpConfigs.getByName('rules-stale');
      // Another replica replaces the config under the same name and makes the user's instance of
      // the new one; this process has not polled that change, so it still holds the old config.
      const newer = `cfg_${'n'.repeat(24)}`;
      otherProcess.prepare(`DELETE FROM mcp_configs WHERE id = ?`).run(stale.id);
      otherProcess
        .prepare('INSERT INTO mcp_configs (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(newer, 'rules-stale', 'newer', iso(0), iso(0));
      otherProcess
        .prepare(
          `INSERT INTO mcp_instances (id, config_id, user_identifier, name, url_secret_hash, url_secret_enc, key_id,
             last_used_at, created_at, updated_at) VALUES (?, ?, 'stale-user', 'default', ?, 'x', 'test1', NULL, ?, ?)`,
        )
        .run(`inst_${'s'.repeat(24)}`, newer, 'f'.repeat(64), iso(0), iso(0));
      // The stale config cannot take an instance any more (it is gone), and the newer config's
      // row is not handed out under the stale config's id, mappings and description.
      const error = await rejection(instances().ensure({ configName: 'rules-stale', userIdentifier: 'stale-user' }));
      expect((error as { code?: string }).code).toBe('SQLITE_CONSTRAINT_FOREIGNKEY');
    });

    it('refuses an unknown config with not_found', async () => {
      expect(await refusal(instances().ensure({ configName: 'no-such-config', userIdentifier: 'u' }))).toEqual({
        code: 'not_found',
        message: 'MCP config no-such-config not found',
      });
    });
  });

  describe('get and the API view', () => {
    it('gets an instance with its config, and refuses an unknown id with not_found', async () => {
      const { row } = await instances().ensure({ configName: 'rules-b', userIdentifier: 'get-user' });
      expect(await instances().get(row.id)).toEqual({ row, config: configB });
      expect(await refusal(instances().get('inst_missing'))).toEqual({
        code: 'not_found',
        message: 'MCP instance inst_missing not found',
      });
    });

    it('shows a use at once: get and list write the pending usage marks first', async () => {
      at(60 * SECOND);
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'used-user' });
      at(70 * SECOND);
      await stack.services.mcpTargets.byInstanceSecret(secretOf(instances().url(row)));
      expect((await instances().get(row.id)).row.last_used_at).toBe(iso(70 * SECOND));

      const other = await instances().ensure({ configName: 'rules-a', userIdentifier: 'used-user-2' });
      at(75 * SECOND);
      await stack.services.mcpTargets.byInstanceSecret(secretOf(instances().url(other.row)));
      const listed = await instances().list({ userIdentifier: 'used-user-2', limit: 10, offset: 0 });
      expect(listed.rows.map((r) => r.row.last_used_at)).toEqual([iso(75 * SECOND)]);
    });

    it('gives the URL only when asked, and the last use only once there was one', async () => {
      at(80 * SECOND);
      const { row, config } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'api-user' });
      const apiConfig = {
        id: configA.id,
        name: 'rules-a',
        description: 'Reads mail and creates reminder events',
        connection_tool_mappings: configA.mappings.map((m) => ({
          connection_id: m.connection_id,
          connection_name: m.connection_name,
          provider: m.provider,
          tools: m.tools,
        })),
        mcp_server_url: `${IN_PROCESS_URL}/mcp/c/${configA.id}`,
      };
      expect(instances().toApi(row, config, false)).toStrictEqual({
        id: row.id,
        name: 'default',
        user_identifier: 'api-user',
        config: apiConfig,
        updated_at: iso(80 * SECOND),
      });
      const used = { ...row, last_used_at: iso(90 * SECOND) };
      expect(instances().toApi(used, config, true)).toStrictEqual({
        id: row.id,
        name: 'default',
        user_identifier: 'api-user',
        config: apiConfig,
        last_used_at: iso(90 * SECOND),
        updated_at: iso(80 * SECOND),
        url: instances().url(row),
      });
    });
  });

  describe('list', () => {
    /** Ids of the listing instances by the time they were made. */
    const made: Record<string, string> = {};

    beforeAll(async () => {
      // Made out of time order, two of them at the same instant, so the order is the query's.
      const plan: [string, string, string, string, number][] = [
        ['c', 'rules-a', 'lst-carol', 'default', 2 * SECOND],
        ['a', 'rules-a', 'lst-alice', 'default', 0],
        ['b', 'rules-b', 'lst-bob', 'laptop', 1 * SECOND],
        ['d1', 'rules-b', 'lst-dave', 'default', 3 * SECOND],
        ['d2', 'rules-a', 'lst-dave', 'lst-phone', 3 * SECOND],
        ['u', 'rules-a', 'lst_under', 'default', 4 * SECOND],
      ];
      for (const [key, configName, userIdentifier, name, ms] of plan) {
        at(-3_600 * SECOND + ms);
        made[key] = (await instances().ensure({ configName, userIdentifier, name })).row.id;
      }
      at(0);
    });

    const ids = (rows: { row: InstanceRow }[]) => rows.map((r) => r.row.id);
    /** The listing instances in creation order, ties by id. */
    const ordered = (...keys: string[]) => {
      const sameInstant = [made.d1, made.d2].sort() as string[];
      const order = [made.a, made.b, made.c, ...sameInstant, made.u];
      return order.filter((id) => keys.some((key) => made[key] === id));
    };

    it('orders by creation time, then id, and pages exactly', async () => {
      const all = await instances().list({ search: 'lst', limit: 100, offset: 0 });
      expect(ids(all.rows)).toEqual(ordered('a', 'b', 'c', 'd1', 'd2', 'u'));
      expect(all.total).toBe(6);
      const first = await instances().list({ search: 'lst', limit: 2, offset: 0 });
      const second = await instances().list({ search: 'lst', limit: 2, offset: 2 });
      const last = await instances().list({ search: 'lst', limit: 2, offset: 4 });
      const beyond = await instances().list({ search: 'lst', limit: 2, offset: 6 });
      expect([ids(first.rows), ids(second.rows), ids(last.rows), ids(beyond.rows)]).toEqual([
        ordered('a', 'b'),
        ordered('c', 'd1', 'd2').slice(0, 2),
        ordered('d1', 'd2', 'u').slice(1),
        [],
      ]);
      expect([first.total, second.total, last.total, beyond.total]).toEqual([6, 6, 6, 6]);
      expect(first.rows).toEqual([
        { row: await stored(made.a ?? ''), config: configA },
        { row: await stored(made.b ?? ''), config: configB },
      ]);
    });

    it('filters by id, name, config name (any case) and user, each alone and together', async () => {
      const page = { limit: 100, offset: 0 };
      const byId = await instances().list({ id: made.b, ...page });
      expect([ids(byId.rows), byId.total]).toEqual([[made.b], 1]);
      const byName = await instances().list({ name: 'lst-phone', ...page });
      expect([ids(byName.rows), byName.total]).toEqual([[made.d2], 1]);
      const byUser = await instances().list({ userIdentifier: 'lst-dave', ...page });
      expect([ids(byUser.rows), byUser.total]).toEqual([ordered('d1', 'd2'), 2]);
      const byConfig = await instances().list({ configName: 'RULES-B', search: 'lst', ...page });
      expect([ids(byConfig.rows), byConfig.total]).toEqual([ordered('b', 'd1'), 2]);
      const together = await instances().list({ configName: 'rules-a', userIdentifier: 'lst-dave', ...page });
      expect([ids(together.rows), together.total]).toEqual([[made.d2], 1]);
      const none = await instances().list({ id: made.b, userIdentifier: 'lst-dave', ...page });
      expect([none.rows, none.total]).toEqual([[], 0]);
    });

    it('searches by a prefix of the instance name or of the user, wildcards taken literally', async () => {
      const page = { limit: 100, offset: 0 };
      const byUser = await instances().list({ search: 'lst-d', ...page });
      expect([ids(byUser.rows), byUser.total]).toEqual([ordered('d1', 'd2'), 2]);
      const byName = await instances().list({ search: 'lst-ph', ...page });
      expect([ids(byName.rows), byName.total]).toEqual([[made.d2], 1]);
      const literal = await instances().list({ search: 'lst_', ...page });
      expect([ids(literal.rows), literal.total]).toEqual([[made.u], 1]);
      const inside = await instances().list({ search: 'dave', ...page });
      expect([inside.rows, inside.total]).toEqual([[], 0]);
    });

    it('leaves out an instance whose config was deleted between the rows and the configs', async () => {
      await createSeedConfig(stack, 'rules-vanish');
      const kept = await instances().ensure({ configName: 'rules-a', userIdentifier: 'vanish-user' });
      await instances().ensure({ configName: 'rules-vanish', userIdentifier: 'vanish-user' });
      afterLookup.next = () => {
        // Another replica deletes the config (its instances go with it) once the rows are read.
        otherProcess.prepare(`DELETE FROM mcp_configs WHERE name = 'rules-vanish'`).run();
      };
      const listed = await instances().list({ userIdentifier: 'vanish-user', limit: 10, offset: 0 });
      expect(afterLookup.next).toBeUndefined();
      expect(listed).toEqual({ rows: [{ row: kept.row, config: configA }], total: 1 });
    });

    it('lists every instance without filters', async () => {
      const count = await database.db
        .selectFrom('mcp_instances')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const all = await instances().list({ limit: 1000, offset: 0 });
      expect(all.total).toBe(Number(count.n));
      expect(all.rows).toHaveLength(Number(count.n));
      expect(ids(all.rows)).toEqual(expect.arrayContaining(ordered('a', 'b', 'c', 'd1', 'd2', 'u')));
    });
  });

  describe('update', () => {
    it('renames, keeping the config, the URL and the creation time', async () => {
      at(100 * SECOND);
      const { row } = await instances().ensure({
        configName: 'rules-a',
        userIdentifier: 'rename-user',
        name: 'laptop',
      });
      at(110 * SECOND);
      const updated = await instances().update(row.id, { name: 'desktop' });
      const read = await stored(row.id);
      expect(updated).toEqual({ row: read, config: configA });
      expect(read).toEqual({ ...row, name: 'desktop', updated_at: iso(110 * SECOND) });
      expect(instances().url(updated.row)).toBe(instances().url(row));
    });

    it('moves to another config by name, keeping the name; the URL then resolves to it', async () => {
      at(120 * SECOND);
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'move-user', name: 'tab' });
      const secret = secretOf(instances().url(row));
      expect((await stack.services.mcpTargets.byInstanceSecret(secret))?.configId).toBe(configA.id);
      // The use just made is written now, so the row below differs from `before` only by the update.
      await stack.services.usage.flush();
      const before = await stored(row.id);
      expect(before?.last_used_at).toBe(iso(120 * SECOND));
      at(130 * SECOND);
      const updated = await instances().update(row.id, { configName: 'Rules-B' });
      const read = await stored(row.id);
      expect(updated).toEqual({ row: read, config: configB });
      expect(read).toEqual({ ...before, config_id: configB.id, updated_at: iso(130 * SECOND) });
      expect(await stack.services.mcpTargets.byInstanceSecret(secret)).toMatchObject({
        configId: configB.id,
        configName: 'rules-b',
        instanceId: row.id,
      });
    });

    it('changes both at once, and an empty patch only moves updated_at', async () => {
      const { row } = await instances().ensure({ configName: 'rules-b', userIdentifier: 'both-user', name: 'one' });
      at(140 * SECOND);
      const both = await instances().update(row.id, { name: 'two', configName: 'rules-a' });
      expect(both).toEqual({ row: await stored(row.id), config: configA });
      expect(both.row).toEqual({ ...row, name: 'two', config_id: configA.id, updated_at: iso(140 * SECOND) });
      at(150 * SECOND);
      const empty = await instances().update(row.id, {});
      expect(empty).toEqual({ row: { ...both.row, updated_at: iso(150 * SECOND) }, config: configA });
      expect(await stored(row.id)).toEqual(empty.row);
    });

    it('refuses a name the user already has for that config with already_exists, changing nothing', async () => {
      await instances().ensure({ configName: 'rules-a', userIdentifier: 'clash-user', name: 'home' });
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'clash-user', name: 'work' });
      expect(await refusal(instances().update(row.id, { name: 'home' }))).toEqual({
        code: 'already_exists',
        message: 'clash-user already has an instance named home of config rules-a',
      });
      await instances().ensure({ configName: 'rules-b', userIdentifier: 'clash-user', name: 'work' });
      expect(await refusal(instances().update(row.id, { configName: 'rules-b' }))).toEqual({
        code: 'already_exists',
        message: 'clash-user already has an instance named work of config rules-b',
      });
      expect(await stored(row.id)).toEqual(row);
    });

    it('refuses an unknown instance or config with not_found', async () => {
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'missing-user' });
      expect(await refusal(instances().update('inst_missing', { name: 'x' }))).toEqual({
        code: 'not_found',
        message: 'MCP instance inst_missing not found',
      });
      expect(await refusal(instances().update(row.id, { configName: 'no-such-config' }))).toEqual({
        code: 'not_found',
        message: 'MCP config no-such-config not found',
      });
      expect(await stored(row.id)).toEqual(row);
    });

    it('passes on a write error that is not a name clash (the config deleted meanwhile)', async () => {
      await createSeedConfig(stack, 'rules-gone');
      await stack.services.mcpConfigs.getByName('rules-gone');
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'gone-user' });
      // Straight to the table, as another replica whose change this process has not polled yet:
      // the config is still cached here.
      await database.db.deleteFrom('mcp_configs').where('name', '=', 'rules-gone').execute();
      const error = await rejection(instances().update(row.id, { configName: 'rules-gone' }));
      expect(error).not.toBeInstanceOf(AppError);
      expect((error as { code?: string }).code).toBe('SQLITE_CONSTRAINT_FOREIGNKEY');
      expect(await stored(row.id)).toEqual(row);
    });
  });

  describe('delete', () => {
    it('deletes the row, after which the URL resolves nowhere and a second delete is not_found', async () => {
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'delete-user' });
      const keep = await instances().ensure({ configName: 'rules-a', userIdentifier: 'delete-user', name: 'keep' });
      const secret = secretOf(instances().url(row));
      expect((await stack.services.mcpTargets.byInstanceSecret(secret))?.instanceId).toBe(row.id);
      await instances().delete(row.id);
      expect(await stored(row.id)).toBeUndefined();
      expect(await stored(keep.row.id)).toEqual(keep.row);
      expect(await stack.services.mcpTargets.byInstanceSecret(secret)).toBeUndefined();
      expect(await refusal(instances().delete(row.id))).toEqual({
        code: 'not_found',
        message: `MCP instance ${row.id} not found`,
      });
      expect(await refusal(instances().get(row.id))).toEqual({
        code: 'not_found',
        message: `MCP instance ${row.id} not found`,
      });
    });
  });

  describe('rotateUrl', () => {
    it('stores a new secret and moves updated_at, keeping everything else', async () => {
      at(200 * SECOND);
      const { row } = await instances().ensure({ configName: 'rules-b', userIdentifier: 'rotate-user' });
      const oldSecret = secretOf(instances().url(row));
      at(210 * SECOND);
      const rotated = await instances().rotateUrl(row.id);
      const read = (await stored(row.id)) as InstanceRow;
      expect(rotated).toEqual({ row: read, config: configB });
      expect(read).toEqual({
        ...row,
        url_secret_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        url_secret_enc: expect.stringMatching(/^v1\./),
        key_id: encryptor.currentKeyId,
        updated_at: iso(210 * SECOND),
      });
      const newSecret = encryptor.decrypt(read.url_secret_enc, read.key_id, `mcp_instances:${row.id}:url_secret`);
      expect(newSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(newSecret).not.toBe(oldSecret);
      expect(read.url_secret_hash).toBe(createHash('sha256').update(newSecret).digest('hex'));
      expect(read.url_secret_enc).not.toBe(row.url_secret_enc);
      expect(instances().url(rotated.row)).toBe(`${IN_PROCESS_URL}/mcp/i/${newSecret}`);
    });

    it('kills the old URL at once here and the new one resolves', async () => {
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'rotate-here' });
      const oldSecret = secretOf(instances().url(row));
      // Cached by the lookup, so only the change feed can drop it.
      expect((await stack.services.mcpTargets.byInstanceSecret(oldSecret))?.instanceId).toBe(row.id);
      const rotated = await instances().rotateUrl(row.id);
      const newSecret = secretOf(instances().url(rotated.row));
      expect(await stack.services.mcpTargets.byInstanceSecret(oldSecret)).toBeUndefined();
      expect(await stack.services.mcpTargets.byInstanceSecret(newSecret)).toMatchObject({
        configId: configA.id,
        userIdentifier: 'rotate-here',
        instanceId: row.id,
      });
    });

    it('refuses an unknown instance with not_found', async () => {
      expect(await refusal(instances().rotateUrl('inst_missing'))).toEqual({
        code: 'not_found',
        message: 'MCP instance inst_missing not found',
      });
    });
  });

  describe('a second replica on the same database', () => {
    let replica: Stack;
    let replicaClock: ManualClock;

    beforeAll(async () => {
      replicaClock = manualClock(START);
      replica = await startStack({ database, clock: replicaClock });
    });
    afterAll(() => replica?.close());

    /** Resolves a secret on the replica after its next poll of the change feed. */
    const onReplica = async (secret: string) => {
      replicaClock.advance(PAST_POLL);
      return replica.services.mcpTargets.byInstanceSecret(secret);
    };

    it('stops resolving a rotated URL at its next poll, and resolves the new one', async () => {
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'replica-rotate' });
      const oldSecret = secretOf(instances().url(row));
      expect((await onReplica(oldSecret))?.instanceId).toBe(row.id);
      const rotated = await instances().rotateUrl(row.id);
      expect(await onReplica(oldSecret)).toBeUndefined();
      expect((await onReplica(secretOf(instances().url(rotated.row))))?.instanceId).toBe(row.id);
    });

    it('stops resolving a deleted URL at its next poll', async () => {
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'replica-delete' });
      const secret = secretOf(instances().url(row));
      expect((await onReplica(secret))?.instanceId).toBe(row.id);
      await instances().delete(row.id);
      expect(await onReplica(secret)).toBeUndefined();
    });

    it('resolves a moved instance to its new config at its next poll', async () => {
      const { row } = await instances().ensure({ configName: 'rules-a', userIdentifier: 'replica-move' });
      const secret = secretOf(instances().url(row));
      expect((await onReplica(secret))?.configId).toBe(configA.id);
      await instances().update(row.id, { configName: 'rules-b' });
      expect((await onReplica(secret))?.configId).toBe(configB.id);
    });
  });
});
