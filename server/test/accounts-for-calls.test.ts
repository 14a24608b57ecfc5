import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRef } from '../src/accounts/connected-accounts.js';
import { createTestDatabase, ENGINES, type TestDatabase } from './support/database.js';
import { selectRecorder } from './support/select-recorder.js';
import { type Stack, startStack } from './support/stack.js';

/**
 * The account lookup of a cold REST, gRPC or proxy call (`findForCall`), called directly on
 * real services and a real database: the connection comes from its cache, and the accounts
 * that first calls arriving together name are read in one query, each caller getting its own.
 */
describe.each(ENGINES)('cold tool-call account lookups on %s', (engine) => {
  const recorder = selectRecorder();
  let stack: Stack;
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    stack = await startStack({ database: { ...database, db: database.db.withPlugin(recorder.plugin) } });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
  });
  afterAll(async () => {
    await stack?.close();
    await database?.close();
  });

  const accounts = () => stack.services.accounts;
  const { counted } = recorder;
  /** Empties this process's account caches, as a disconnect anywhere does. */
  const coldCaches = () => stack.services.changes.forget(['accounts']);
  const findAll = (refs: AccountRef[]) => Promise.all(refs.map((ref) => accounts().findForCall(ref)));

  it('reads the accounts that first calls name in the same turn in one query, each caller its own', async () => {
    const users = ['pair-1', 'pair-2', 'pair-3'];
    const gmail = await Promise.all(
      users.map((user) => stack.connectAccount('MY_GMAIL', user, 'john.doe@example.com')),
    );
    const calendar = await stack.connectAccount('MY_CALENDAR', 'pair-2', 'jane.doe@example.com');
    // A connection's row is read by its first call and kept: the next first call reads its account alone.
    expect((await counted(() => findAll([{ connector: 'MY_GMAIL', identifier: 'warm-1' }]))).selects).toBe(2);
    expect((await counted(() => findAll([{ connector: 'MY_CALENDAR', identifier: 'warm-1' }]))).selects).toBe(2);
    expect((await counted(() => findAll([{ connector: 'MY_GMAIL', identifier: 'warm-2' }]))).selects).toBe(1);
    const before = { queries: accounts().byPair.queries, keys: accounts().byPair.keys };

    // One of them twice, an identifier nobody has, and a user who has no account at the other
    // connection: the pairs asked for, not every connection with every identifier.
    const refs: AccountRef[] = [
      ...users.map((identifier) => ({ connector: 'MY_GMAIL', identifier })),
      { connector: 'MY_CALENDAR', identifier: 'pair-2' },
      { connector: 'MY_GMAIL', identifier: 'pair-1' },
      { connector: 'MY_GMAIL', identifier: 'nobody' },
      { connector: 'MY_CALENDAR', identifier: 'pair-1' },
    ];
    const { selects, result } = await counted(() => findAll(refs));
    expect(selects).toBe(1);
    expect({ queries: accounts().byPair.queries, keys: accounts().byPair.keys }).toEqual({
      queries: before.queries + 1,
      keys: before.keys + 6,
    });
    expect(result.map((found) => found?.account.id)).toEqual([...gmail, calendar, gmail[0], undefined, undefined]);
    expect(result.map((found) => found?.connection.name)).toEqual([
      'MY_GMAIL',
      'MY_GMAIL',
      'MY_GMAIL',
      'MY_CALENDAR',
      'MY_GMAIL',
      undefined,
      undefined,
    ]);
    expect(result.map((found) => found?.account.identifier)).toEqual([
      ...users,
      'pair-2',
      'pair-1',
      undefined,
      undefined,
    ]);
    // Kept for the calls that follow.
    expect((await counted(() => findAll(refs.slice(0, 5)))).selects).toBe(0);
  });

  it('reads the accounts that first calls name by id in one query, each connection once', async () => {
    const gmail = await stack.connectAccount('MY_GMAIL', 'id-1', 'john.doe@example.com');
    const calendar = await stack.connectAccount('MY_CALENDAR', 'id-2', 'jane.doe@example.com');
    coldCaches();
    const refs: AccountRef[] = [{ id: gmail }, { id: calendar }, { id: gmail }, { id: 'ca_no_such_account' }];
    const { selects, result } = await counted(() => findAll(refs));
    // The accounts in one query, then each connection's row once (two calls wait for MY_GMAIL's).
    expect(selects).toBe(3);
    expect(result.map((found) => found && [found.account.id, found.connection.name])).toEqual([
      [gmail, 'MY_GMAIL'],
      [calendar, 'MY_CALENDAR'],
      [gmail, 'MY_GMAIL'],
      undefined,
    ]);
    expect((await counted(() => findAll(refs.slice(0, 3)))).selects).toBe(0);
  });

  it('forgets a connection row when the connection changes, as it forgets the accounts', async () => {
    const account = await stack.connectAccount('MY_GMAIL', 'renamed-1', 'john.doe@example.com');
    await accounts().findForCall({ connector: 'MY_GMAIL', identifier: 'renamed-1' });
    const connection = await stack.services.connections.getByName('MY_GMAIL');
    await stack.services.connections.update(connection.id, {
      scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
    });
    const found = await accounts().findForCall({ id: account });
    expect(found?.connection.scopes).toBe(JSON.stringify(['https://www.googleapis.com/auth/gmail.readonly']));
  });
});
