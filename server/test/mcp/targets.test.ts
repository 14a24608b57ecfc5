import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../src/cache/change-feed.js';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/contexts.js';
import { UsageMarks } from '../../src/db/usage-marks.js';
import type { InstanceRow } from '../../src/mcp/instances.js';
import { McpTarget, McpTargets } from '../../src/mcp/targets.js';
import { manualClock } from '../support/clock.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/database.js';
import { selectRecorder } from '../support/select-recorder.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * McpTargets' own rules, called directly on real services and a real database (issue 18's
 * mutation testing of targets.ts): what an instance URL secret and a session token's config
 * resolve to, the one-query cold lookup and the accounts it primes, what is cached and what
 * empties it (here at once, on another replica at its next poll). The HTTP paths are covered
 * by hot-path.test.ts, cold-call.test.ts and session-token-revocation.test.ts.
 */

describe.each(ENGINES)('MCP targets on %s', (engine) => {
  const clock = manualClock(Date.UTC(2026, 10, 24, 9, 0, 0));
  const recorder = selectRecorder();
  let stack: Stack;
  let database: TestDatabase | undefined;
  let configId: string;
  let people = 0;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    stack = await startStack({ database: { ...database, db: database.db.withPlugin(recorder.plugin) }, clock });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
    // Mapped in the other order than the connections were made: mappings keep their positions.
    const config = await stack.services.mcpConfigs.create({
      name: 'targets',
      description: 'Creates events from mail',
      mappings: [
        { connectionName: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
        { connectionName: 'MY_GMAIL', tools: [] },
      ],
    });
    configId = config.id;
  });
  // The stack closes only a database it made itself.
  afterAll(async () => {
    await stack?.close();
    await database?.close();
  });

  const targets = () => stack.services.mcpTargets;
  const MAPPINGS = [
    { connectionName: 'MY_CALENDAR', provider: 'googlecalendar', tools: ['googlecalendar_create_event'] },
    { connectionName: 'MY_GMAIL', provider: 'gmail', tools: [] },
  ];
  const person = () => `person-${++people}`;
  /** A config mapping MY_GMAIL alone (`tools` of it; empty: all). */
  const gmailConfig = (name: string, description: string, tools: string[] = []) =>
    stack.services.mcpConfigs.create({ name, description, mappings: [{ connectionName: 'MY_GMAIL', tools }] });
  const secretOf = (row: InstanceRow) =>
    stack.services.encryptor.decrypt(
      row.url_secret_enc,
      row.key_id,
      ENCRYPTED_COLUMNS.instanceUrlSecret.context(row.id),
    );
  /** A new instance of `configName` for `user`, and its URL secret. */
  const instanceOf = async (user: string, configName = 'targets') => {
    const { row } = await stack.services.mcpInstances.ensure({ configName, userIdentifier: user });
    return { row, secret: secretOf(row) };
  };
  const { counted } = recorder;
  /** Empties every cache of the `mcp` scope in this process, as any admin write to a config does. */
  const coldCaches = () => stack.services.changes.forget(['mcp']);
  const cacheNamed = (name: string) => {
    const found = stack.services.changes.allCaches.find((cache) => cache.name === name);
    if (!found) throw new Error(`no cache named ${name}`);
    return found;
  };
  const accountRow = (id: string) =>
    stack.db.db.selectFrom('connected_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const connectionRow = (name: string) =>
    stack.db.db.selectFrom('connections').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
  /** An account and its connection exactly as the tables hold them: what a lookup hands over. */
  const storedRows = async (accountId: string, connectionName: string) => ({
    account: await accountRow(accountId),
    connection: await connectionRow(connectionName),
  });
  /** Another replica's McpTargets on the same database: its own change feed, caches and usage marks. */
  const replica = () => {
    const deps = { db: stack.db.db, clock, logger: stack.services.logger };
    const changes = new ChangeFeed(deps);
    const usage = new UsageMarks(deps);
    return { targets: new McpTargets({ db: stack.db.db, changes, usage }), changes, usage };
  };

  it("resolves an instance URL secret in one query to its config, user, mappings in order, and the user's accounts", async () => {
    const user = person();
    const gmail = await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    const calendar = await stack.connectAccount('MY_CALENDAR', user, 'jane.doe@example.com');
    // Another user's accounts at the same connections are not this user's.
    await stack.connectAccount('MY_GMAIL', `${user}-other`, 'john.doe@example.com');
    const { row, secret } = await instanceOf(user);
    coldCaches();

    const { selects, result: target } = await counted(() => targets().byInstanceSecret(secret));
    expect(selects).toBe(1);
    expect(target).toBeInstanceOf(McpTarget);
    expect({ ...target, prefetched: undefined }).toEqual({
      configId,
      configName: 'targets',
      description: 'Creates events from mail',
      userIdentifier: user,
      mappings: MAPPINGS,
      instanceId: row.id,
      prefetched: undefined,
    });
    expect([...(target?.prefetched?.keys() ?? [])]).toEqual(['MY_CALENDAR', 'MY_GMAIL']);
    // The rows exactly as the accounts and connections tables hold them.
    expect(target?.prefetched?.get('MY_GMAIL')).toEqual(await storedRows(gmail, 'MY_GMAIL'));
    expect(target?.prefetched?.get('MY_CALENDAR')).toEqual(await storedRows(calendar, 'MY_CALENDAR'));
  });

  it('keeps the accounts it read for the calls that follow', async () => {
    const user = person();
    const gmail = await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    const { secret } = await instanceOf(user);
    coldCaches();
    await targets().byInstanceSecret(secret);
    const { selects, result: found } = await counted(() =>
      stack.services.accounts.findForCall({ connector: 'MY_GMAIL', identifier: user }),
    );
    expect(selects).toBe(0);
    expect(found?.account).toEqual(await accountRow(gmail));
  });

  it('does not keep accounts that a write overtook while it read them', async () => {
    const user = person();
    await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    const { secret } = await instanceOf(user);
    coldCaches();
    // An account write commits while the instance lookup runs.
    recorder.state.during = () => stack.services.changes.forget(['accounts']);
    const target = await targets().byInstanceSecret(secret);
    expect(target?.prefetched?.has('MY_GMAIL')).toBe(true);
    const { selects, result: found } = await counted(() =>
      stack.services.accounts.findForCall({ connector: 'MY_GMAIL', identifier: user }),
    );
    // Read again from the database (a primed row is not `fresh`).
    expect(selects).toBeGreaterThan(0);
    expect(found).toHaveProperty('fresh', true);
    // The instance and config were not overtaken: kept.
    expect((await counted(() => targets().byInstanceSecret(secret))).selects).toBe(0);
  });

  it('does not keep an instance that an mcp write overtook while it read it', async () => {
    const { secret } = await instanceOf(person());
    coldCaches();
    recorder.state.during = () => stack.services.changes.forget(['mcp']);
    expect((await targets().byInstanceSecret(secret))?.configId).toBe(configId);
    expect((await counted(() => targets().byInstanceSecret(secret))).selects).toBe(1);
  });

  it("leaves out the connections the user has no account at, and reads no one else's", async () => {
    const user = person();
    const gmail = await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    await stack.connectAccount('MY_CALENDAR', `${user}-other`, 'jane.doe@example.com');
    const { secret } = await instanceOf(user);
    coldCaches();
    const target = await targets().byInstanceSecret(secret);
    expect(target?.mappings).toEqual(MAPPINGS);
    expect([...(target?.prefetched?.keys() ?? [])]).toEqual(['MY_GMAIL']);
    expect(target?.prefetched?.get('MY_GMAIL')?.account).toEqual(await accountRow(gmail));

    const { secret: nobodys } = await instanceOf(person());
    coldCaches();
    const bare = await targets().byInstanceSecret(nobodys);
    expect(bare?.mappings).toEqual(MAPPINGS);
    expect(bare?.prefetched?.size).toBe(0);
  });

  it('serves the next lookup from its caches without a query, and then has no rows to hand over', async () => {
    const user = person();
    await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    const { row, secret } = await instanceOf(user);
    coldCaches();
    await targets().byInstanceSecret(secret);
    expect(cacheNamed('mcp_instances').size).toBe(1);
    expect(cacheNamed('mcp_configs').size).toBe(1);
    const { selects, result: warm } = await counted(() => targets().byInstanceSecret(secret));
    expect(selects).toBe(0);
    expect(warm).toEqual(new McpTarget(configId, 'targets', 'Creates events from mail', user, MAPPINGS, row.id));
    expect(warm?.prefetched).toBeUndefined();
  });

  it('finds nothing for an unknown or rotated secret, and caches nothing for it', async () => {
    const { row, secret } = await instanceOf(person());
    coldCaches();
    expect(await targets().byInstanceSecret('not-a-secret')).toBeUndefined();
    expect(await targets().byInstanceSecret('')).toBeUndefined();
    expect(cacheNamed('mcp_instances').size).toBe(0);
    expect((await counted(() => targets().byInstanceSecret('not-a-secret'))).selects).toBe(1);

    expect((await targets().byInstanceSecret(secret))?.instanceId).toBe(row.id);
    const rotated = await stack.services.mcpInstances.rotateUrl(row.id);
    // The config is cached again before the old secret is tried: the instance cache itself must be empty.
    expect((await targets().byConfig(configId, 'anyone'))?.configId).toBe(configId);
    expect(await targets().byInstanceSecret(secret)).toBeUndefined();
    expect((await targets().byInstanceSecret(secretOf(rotated.row)))?.instanceId).toBe(row.id);
  });

  it('follows an instance moved to another config at once', async () => {
    const user = person();
    await gmailConfig('targets-moved', 'mail only', ['gmail_fetch_mails']);
    const { row, secret } = await instanceOf(user);
    expect((await targets().byInstanceSecret(secret))?.configId).toBe(configId);
    await stack.services.mcpInstances.update(row.id, { configName: 'targets-moved' });
    expect((await targets().byConfig(configId, 'anyone'))?.configId).toBe(configId);
    const moved = await targets().byInstanceSecret(secret);
    expect(moved?.configName).toBe('targets-moved');
    expect(moved?.mappings).toEqual([{ connectionName: 'MY_GMAIL', provider: 'gmail', tools: ['gmail_fetch_mails'] }]);
  });

  it('marks the instance used when resolved, cold or warm', async () => {
    const { row, secret } = await instanceOf(person());
    coldCaches();
    await targets().byInstanceSecret(secret);
    await stack.services.usage.flush();
    const used = async () =>
      (await stack.db.db.selectFrom('mcp_instances').select('last_used_at').where('id', '=', row.id).executeTakeFirst())
        ?.last_used_at;
    expect(await used()).toBe(new Date(clock.now()).toISOString());
    clock.advance(61_000);
    await targets().byInstanceSecret(secret);
    await stack.services.usage.flush();
    expect(await used()).toBe(new Date(clock.now()).toISOString());
  });

  it('takes the last use it read with the instance, so another process does not write it again within the minute', async () => {
    const { row, secret } = await instanceOf(person());
    await targets().byInstanceSecret(secret);
    await stack.services.usage.flush();
    clock.advance(30_000);
    const other = replica();
    // Without an accounts cache, too: the rows are still handed to the call.
    expect((await other.targets.byInstanceSecret(secret))?.prefetched?.size).toBe(0);
    expect(other.usage.pendingCount).toBe(0);
    clock.advance(31_000);
    expect((await other.targets.byInstanceSecret(secret))?.instanceId).toBe(row.id);
    expect(other.usage.pendingCount).toBe(1);
    await other.usage.flush();
  });

  it('takes the last use of each account it read, so the call that uses one does not write it again within the minute', async () => {
    const user = person();
    const gmail = await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    const { row, secret } = await instanceOf(user);
    // Another process used both 30 s ago.
    const recently = new Date(clock.now() - 30_000).toISOString();
    await stack.db.db.updateTable('mcp_instances').set({ last_used_at: recently }).where('id', '=', row.id).execute();
    await stack.db.db
      .updateTable('connected_accounts')
      .set({ last_used_at: recently })
      .where('id', '=', gmail)
      .execute();
    const other = replica();
    expect((await other.targets.byInstanceSecret(secret))?.prefetched?.get('MY_GMAIL')?.account.id).toBe(gmail);
    other.usage.mark('connected_accounts', gmail);
    expect(other.usage.pendingCount).toBe(0);
    clock.advance(30_000);
    other.usage.mark('connected_accounts', gmail);
    expect(other.usage.pendingCount).toBe(1);
    await other.usage.flush();
  });

  it("resolves a session token's config for each user, from its cache after the first time", async () => {
    coldCaches();
    const first = await counted(() => targets().byConfig(configId, 'ann'));
    expect(first.selects).toBe(1);
    expect(first.result).toEqual(new McpTarget(configId, 'targets', 'Creates events from mail', 'ann', MAPPINGS));
    expect(first.result?.instanceId).toBeUndefined();
    expect(first.result?.prefetched).toBeUndefined();
    expect(cacheNamed('mcp_configs').size).toBe(1);
    const second = await counted(() => targets().byConfig(configId, 'bob'));
    expect(second.selects).toBe(0);
    expect(second.result).toEqual(new McpTarget(configId, 'targets', 'Creates events from mail', 'bob', MAPPINGS));
  });

  it('serves a config the instance lookup cached to the session-token path, and the other way round', async () => {
    const user = person();
    const gmail = await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    const { secret } = await instanceOf(user);
    coldCaches();
    await targets().byInstanceSecret(secret);
    expect((await counted(() => targets().byConfig(configId, user))).selects).toBe(0);

    coldCaches();
    await targets().byConfig(configId, 'someone-else');
    // One query, for the user's own rows: the config and its connections come from the cache.
    const { selects, result: target } = await counted(() => targets().byInstanceSecret(secret));
    expect(selects).toBe(1);
    expect(target?.mappings).toEqual(MAPPINGS);
    expect(target?.prefetched?.get('MY_GMAIL')).toEqual(await storedRows(gmail, 'MY_GMAIL'));
  });

  it("reads only a user's own rows when another user of the config warmed it, and hands over the same rows", async () => {
    const user = person();
    const gmail = await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    const calendar = await stack.connectAccount('MY_CALENDAR', user, 'jane.doe@example.com');
    await stack.connectAccount('MY_GMAIL', `${user}-other`, 'john.doe@example.com');
    const { row, secret } = await instanceOf(user);
    const { secret: others } = await instanceOf(`${user}-other`);
    coldCaches();
    expect((await counted(() => targets().byInstanceSecret(others))).selects).toBe(1);

    const { selects, result: target } = await counted(() => targets().byInstanceSecret(secret));
    expect(selects).toBe(1);
    expect({ ...target, prefetched: undefined }).toEqual({
      configId,
      configName: 'targets',
      description: 'Creates events from mail',
      userIdentifier: user,
      mappings: MAPPINGS,
      instanceId: row.id,
      prefetched: undefined,
    });
    expect([...(target?.prefetched?.keys() ?? [])].sort()).toEqual(['MY_CALENDAR', 'MY_GMAIL']);
    expect(target?.prefetched?.get('MY_GMAIL')).toEqual(await storedRows(gmail, 'MY_GMAIL'));
    expect(target?.prefetched?.get('MY_CALENDAR')).toEqual(await storedRows(calendar, 'MY_CALENDAR'));
    // Kept for the calls that follow, as the whole lookup keeps them.
    expect(
      (await counted(() => stack.services.accounts.findForCall({ connector: 'MY_CALENDAR', identifier: user })))
        .selects,
    ).toBe(0);
    expect((await counted(() => targets().byInstanceSecret(secret))).selects).toBe(0);
  });

  it('reads the own rows of users whose first calls come together in one query, each user their own', async () => {
    const users = [person(), person(), person()];
    const gmail = await Promise.all(
      users.map((user) => stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com')),
    );
    const calendar = await stack.connectAccount('MY_CALENDAR', users[1] as string, 'jane.doe@example.com');
    const instances = [];
    for (const user of users) instances.push(await instanceOf(user));
    const { secret: warming } = await instanceOf(person());
    coldCaches();
    await targets().byInstanceSecret(warming);
    const lookups = { queries: targets().ownRows.queries, keys: targets().ownRows.keys };

    // One of them twice, and a secret nobody has: asked for in the same turn.
    const secrets = [...instances.map((i) => i.secret), instances[0]?.secret as string, 'no-such-secret'];
    const { selects, result } = await counted(() =>
      Promise.all(secrets.map((secret) => targets().byInstanceSecret(secret))),
    );
    expect(selects).toBe(1);
    expect({ queries: targets().ownRows.queries, keys: targets().ownRows.keys }).toEqual({
      queries: lookups.queries + 1,
      keys: lookups.keys + 4,
    });
    expect(result.map((target) => target?.userIdentifier)).toEqual([...users, users[0], undefined]);
    expect(result.map((target) => target?.instanceId)).toEqual([
      ...instances.map((i) => i.row.id),
      instances[0]?.row.id,
      undefined,
    ]);
    for (const [i, target] of result.slice(0, 3).entries()) {
      expect(target?.prefetched?.get('MY_GMAIL')).toEqual(await storedRows(gmail[i] as string, 'MY_GMAIL'));
    }
    expect(result[1]?.prefetched?.get('MY_CALENDAR')).toEqual(await storedRows(calendar, 'MY_CALENDAR'));
    expect([result[0], result[2]].map((target) => target?.prefetched?.has('MY_CALENDAR'))).toEqual([false, false]);
    // Kept for the next calls, as a lone lookup keeps them.
    expect(
      (await counted(() => Promise.all(secrets.slice(0, 3).map((s) => targets().byInstanceSecret(s))))).selects,
    ).toBe(0);
  });

  it('runs the whole lookup for an instance whose config is not the cached one, once per config', async () => {
    const other = await gmailConfig('targets-other', 'Reads mail', ['gmail_fetch_mails']);
    const first = person();
    const second = person();
    const gmail = await stack.connectAccount('MY_GMAIL', second, 'john.doe@example.com');
    const { secret: firstSecret } = await instanceOf(first, 'targets-other');
    const { secret: secondSecret } = await instanceOf(second, 'targets-other');
    coldCaches();
    await targets().byConfig(configId, 'someone');

    const cold = await counted(() => targets().byInstanceSecret(firstSecret));
    expect(cold.selects).toBe(2);
    expect(cold.result?.configId).toBe(other.id);
    expect(cold.result?.mappings).toEqual([
      { connectionName: 'MY_GMAIL', provider: 'gmail', tools: ['gmail_fetch_mails'] },
    ]);

    const next = await counted(() => targets().byInstanceSecret(secondSecret));
    expect(next.selects).toBe(1);
    expect(next.result?.configId).toBe(other.id);
    expect(next.result?.prefetched?.get('MY_GMAIL')?.account).toEqual(await accountRow(gmail));
  });

  it('holds one row per connection for all the configs that map it, and a new row once the connection differs', async () => {
    const other = await gmailConfig('targets-sharing', 'Maps the same connection');
    const first = person();
    const second = person();
    const third = person();
    for (const user of [first, second, third]) await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    const { secret: firstSecret } = await instanceOf(first);
    const { secret: secondSecret } = await instanceOf(second, 'targets-sharing');
    coldCaches();
    const viaFirst = (await targets().byInstanceSecret(firstSecret))?.prefetched?.get('MY_GMAIL')?.connection;
    const viaSecond = (await targets().byInstanceSecret(secondSecret))?.prefetched?.get('MY_GMAIL')?.connection;
    expect(viaFirst).toEqual(await connectionRow('MY_GMAIL'));
    expect(viaSecond).toBe(viaFirst);

    // A row changed behind the change feed's back (a hand-written UPDATE): a config read
    // after it holds the row as it is now, not the one kept before.
    const before = await connectionRow('MY_GMAIL');
    const changedScopes = JSON.stringify([...JSON.parse(before.scopes), 'https://example.com/extra']);
    await stack.db.db.updateTable('connections').set({ scopes: changedScopes }).where('id', '=', before.id).execute();
    try {
      cacheNamed('mcp_configs').delete(other.id);
      const { secret: thirdSecret } = await instanceOf(third, 'targets-sharing');
      const viaThird = (await targets().byInstanceSecret(thirdSecret))?.prefetched?.get('MY_GMAIL')?.connection;
      expect(viaThird).toEqual(await connectionRow('MY_GMAIL'));
      expect(viaThird?.scopes).toBe(changedScopes);
      expect(viaThird).not.toBe(viaFirst);
    } finally {
      await stack.db.db.updateTable('connections').set({ scopes: before.scopes }).where('id', '=', before.id).execute();
      coldCaches();
    }
  });

  it('leaves out an account at a connection mapped after its config was cached, until the change is seen', async () => {
    const config = await gmailConfig('targets-growing', 'Gains a mapping');
    const user = person();
    const gmail = await stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com');
    await stack.connectAccount('MY_CALENDAR', user, 'jane.doe@example.com');
    const { secret } = await instanceOf(user, 'targets-growing');
    coldCaches();
    await targets().byConfig(config.id, 'someone');
    // Another replica maps a connection; this process has not seen the change yet.
    const calendar = await connectionRow('MY_CALENDAR');
    await stack.db.db
      .insertInto('mcp_config_mappings')
      .values({ config_id: config.id, connection_id: calendar.id, tools: '[]', position: 1 })
      .execute();

    const stale = await targets().byInstanceSecret(secret);
    expect(stale?.mappings.map((m) => m.connectionName)).toEqual(['MY_GMAIL']);
    expect([...(stale?.prefetched?.keys() ?? [])]).toEqual(['MY_GMAIL']);
    expect(stale?.prefetched?.get('MY_GMAIL')?.account).toEqual(await accountRow(gmail));

    coldCaches();
    const seen = await targets().byInstanceSecret(secret);
    expect(seen?.mappings.map((m) => m.connectionName)).toEqual(['MY_GMAIL', 'MY_CALENDAR']);
    expect([...(seen?.prefetched?.keys() ?? [])]).toEqual(['MY_GMAIL', 'MY_CALENDAR']);
  });

  it('does not keep an instance whose cache was emptied while its own rows were read', async () => {
    const { secret: others } = await instanceOf(person());
    const { secret } = await instanceOf(person());
    coldCaches();
    await targets().byInstanceSecret(others);
    recorder.state.during = () => cacheNamed('mcp_instances').clear();
    const overtaken = await counted(() => targets().byInstanceSecret(secret));
    expect(overtaken.selects).toBe(1);
    expect(overtaken.result?.configId).toBe(configId);
    expect(cacheNamed('mcp_instances').size).toBe(0);
    // The config outlived it: the own-rows lookup runs again, and this time its instance is kept.
    expect((await counted(() => targets().byInstanceSecret(secret))).selects).toBe(1);
    expect((await counted(() => targets().byInstanceSecret(secret))).selects).toBe(0);
  });

  it('runs the whole lookup when the config was emptied from the cache while the own rows were read', async () => {
    const { secret: others } = await instanceOf(person());
    const { secret } = await instanceOf(person());
    coldCaches();
    await targets().byInstanceSecret(others);
    recorder.state.during = () => stack.services.changes.forget(['mcp']);
    const overtaken = await counted(() => targets().byInstanceSecret(secret));
    expect(overtaken.selects).toBe(2);
    expect(overtaken.result?.mappings).toEqual(MAPPINGS);
    expect((await counted(() => targets().byInstanceSecret(secret))).selects).toBe(0);
  });

  it("empties both caches on a change of the config's mappings: both paths see the new mappings at once", async () => {
    const { row, secret } = await instanceOf(person());
    const config = await gmailConfig('targets-changing', 'before', ['gmail_fetch_mails']);
    const { secret: changingSecret } = await instanceOf('changing-user', 'targets-changing');
    expect((await targets().byInstanceSecret(secret))?.instanceId).toBe(row.id);
    expect((await targets().byInstanceSecret(changingSecret))?.mappings).toHaveLength(1);
    expect((await targets().byConfig(config.id, 'x'))?.mappings).toHaveLength(1);

    await stack.services.mcpConfigs.update(config.id, {
      description: 'after',
      mappings: [
        { connectionName: 'MY_GMAIL', tools: ['gmail_get_profile'] },
        { connectionName: 'MY_CALENDAR', tools: [] },
      ],
    });
    const changed = [
      { connectionName: 'MY_GMAIL', provider: 'gmail', tools: ['gmail_get_profile'] },
      { connectionName: 'MY_CALENDAR', provider: 'googlecalendar', tools: [] },
    ];
    // The session-token path first: the config cache itself must have been emptied.
    expect(await targets().byConfig(config.id, 'x')).toEqual(
      new McpTarget(config.id, 'targets-changing', 'after', 'x', changed),
    );
    expect(await targets().byInstanceSecret(changingSecret)).toMatchObject({ description: 'after', mappings: changed });
  });

  it('finds no config that is gone: an unknown id, and a config deleted under a live session token', async () => {
    coldCaches();
    expect(await targets().byConfig('cfg_unknown', 'ann')).toBeUndefined();
    expect(cacheNamed('mcp_configs').size).toBe(0);
    expect((await counted(() => targets().byConfig('cfg_unknown', 'ann'))).selects).toBe(1);

    const doomed = await gmailConfig('targets-doomed', '');
    const { secret } = await instanceOf('doomed-user', 'targets-doomed');
    expect((await targets().byConfig(doomed.id, 'doomed-user'))?.configName).toBe('targets-doomed');
    expect((await targets().byInstanceSecret(secret))?.configName).toBe('targets-doomed');
    await stack.services.mcpConfigs.delete(doomed.id);
    expect(await targets().byConfig(doomed.id, 'doomed-user')).toBeUndefined();
    expect(await targets().byInstanceSecret(secret)).toBeUndefined();
  });

  it('resolves a config that maps no connections to no mappings on both paths', async () => {
    const empty = await stack.services.mcpConfigs.create({ name: 'targets-empty', description: 'none', mappings: [] });
    const { row, secret } = await instanceOf('empty-user', 'targets-empty');
    coldCaches();
    expect(await targets().byConfig(empty.id, 'empty-user')).toEqual(
      new McpTarget(empty.id, 'targets-empty', 'none', 'empty-user', []),
    );
    coldCaches();
    const target = await targets().byInstanceSecret(secret);
    expect({ ...target, prefetched: undefined }).toEqual(
      new McpTarget(empty.id, 'targets-empty', 'none', 'empty-user', [], row.id),
    );
    expect(target?.prefetched?.size).toBe(0);
  });

  it("sees another replica's change at its next poll of the change feed, not before", async () => {
    const other = replica();
    const config = await gmailConfig('targets-replicated', 'v1', ['gmail_fetch_mails']);
    const { secret } = await instanceOf('replicated-user', 'targets-replicated');
    expect((await other.targets.byConfig(config.id, 'u'))?.description).toBe('v1');
    expect((await other.targets.byInstanceSecret(secret))?.description).toBe('v1');

    await stack.services.mcpConfigs.update(config.id, { description: 'v2' });
    clock.advance(100);
    expect((await other.targets.byConfig(config.id, 'u'))?.description).toBe('v1');
    clock.advance(150);
    expect((await other.targets.byConfig(config.id, 'u'))?.description).toBe('v2');
    expect((await other.targets.byInstanceSecret(secret))?.description).toBe('v2');

    await stack.services.mcpConfigs.delete(config.id);
    clock.advance(250);
    expect(await other.targets.byConfig(config.id, 'u')).toBeUndefined();
    expect(await other.targets.byInstanceSecret(secret)).toBeUndefined();
  });
});
