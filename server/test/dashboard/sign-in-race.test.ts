import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/context.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.js';
import { createServices } from '../../src/services.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/database.js';
import { type Stack, startStack } from '../support/stack.js';
import { StatementHook } from '../support/statement-hook.js';
import { DashboardClient } from './dashboard-client.js';

/**
 * A dashboard sign-in checks the client's secret, then inserts its session. A secret rotation
 * or a revocation (another replica, the CLI) ends the client's sessions in one transaction:
 * one that commits between those two statements must end the sign-in too.
 */
describe.each(ENGINES)('a dashboard sign-in racing a rotation or revocation on %s', (engine) => {
  let database: TestDatabase;
  let stack: Stack;
  /** Runs another replica's work once, right after the sign-in's read of api_clients (the secret check). */
  let hook: StatementHook;
  /** Runs a test's work once, right after the other replica's next update of api_clients, inside its transaction. */
  let otherHook: StatementHook;
  /** Another replica on its own connection to the same database. */
  let other: Services;
  let otherDb: DatabaseHandle;
  let clients = 0;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    hook = new StatementHook(
      (node) => node.kind === 'SelectQueryNode' && JSON.stringify(node.from ?? null).includes('"name":"api_clients"'),
    );
    stack = await startStack({ database: { ...database, db: database.db.withPlugin(hook.plugin) } });
    otherHook = new StatementHook(
      (node) => node.kind === 'UpdateQueryNode' && JSON.stringify(node).includes('"name":"api_clients"'),
    );
    otherDb = await openDatabase(database.reopen);
    other = createServices({ ...stack.services, db: otherDb.db.withPlugin(otherHook.plugin), metrics: undefined });
  });
  afterAll(async () => {
    await other?.callLog.close();
    await other?.rateLimiter.close();
    await otherDb?.close();
    await stack?.close();
    await database?.close();
  });
  afterEach(() => {
    hook.next = undefined;
    otherHook.next = undefined;
  });

  /** A fresh client, and a browser holding the sign-in form that will submit its credentials. */
  const signInForm = async () => {
    const client = await stack.services.apiClients.create(`racer-${++clients}`);
    const browser = new DashboardClient(stack);
    const form = await (await browser.get('/dashboard/sign-in')).text();
    const submit = () =>
      browser.post('/dashboard/sign-in', {
        _csrf: DashboardClient.hidden(form, '_csrf'),
        client_id: client.client_id,
        client_secret: client.client_secret,
      });
    return { client, browser, submit };
  };
  const sessionsOf = async (apiClientId: string) =>
    (
      await database.db
        .selectFrom('dashboard_sessions')
        .select('id_hash')
        .where('api_client_id', '=', apiClientId)
        .execute()
    ).length;

  it('signs in when nothing races it (the hooked statement is the secret check)', async () => {
    const { client, browser, submit } = await signInForm();
    let checked = false;
    hook.next = () => {
      checked = true;
    };
    expect((await submit()).status).toBe(303);
    expect(checked).toBe(true);
    expect((await browser.get('/dashboard/connections')).status).toBe(200);
    expect(await sessionsOf(client.id)).toBe(1);
  });

  for (const change of ['rotateSecret', 'revoke'] as const) {
    it(`refuses the sign-in when ${change} commits between the secret check and the session insert`, async () => {
      const { client, browser, submit } = await signInForm();
      hook.next = () => other.apiClients[change](client.id);
      const response = await submit();
      expect(hook.next).toBeUndefined();
      expect(response.status).toBe(401);
      expect(await response.text()).toContain('Those credentials are not valid');
      expect(browser.cookies.has('sb_session')).toBe(false);
      expect(await sessionsOf(client.id)).toBe(0);
      expect((await browser.get('/dashboard/connections')).status).toBe(303);
    });
  }

  // On Postgres a sign-in can also run while a rotation is between its update and its delete
  // of the sessions; SQLite runs one writer at a time, and its synchronous driver would block
  // this process's other connection.
  it.runIf(engine === 'postgres')(
    'a sign-in during a rotation in flight waits for it and is refused',
    async () => {
      const { client, browser, submit } = await signInForm();
      const signIns: Promise<Response>[] = [];
      let waited = false;
      otherHook.next = async () => {
        signIns.push(submit());
        // Hold the rotation's transaction open until the session insert waits on its row lock.
        for (const until = Date.now() + 5_000; Date.now() < until && !waited; ) {
          const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
            where wait_event_type = 'Lock' and query like 'insert into "dashboard_sessions"%'`.execute(database.db);
          waited = Number(rows[0]?.n) > 0;
          if (!waited) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await other.apiClients.rotateSecret(client.id);
      expect(signIns).toHaveLength(1);
      const [response] = await Promise.all(signIns);
      expect(waited).toBe(true);
      expect(response?.status).toBe(401);
      expect(browser.cookies.has('sb_session')).toBe(false);
      expect(await sessionsOf(client.id)).toBe(0);
    },
    20_000,
  );
});
