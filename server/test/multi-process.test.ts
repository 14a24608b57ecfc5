import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailableFor, WITHOUT_POSTGRES } from './support/database.js';
import { CLI, type ServerProcess, startServerProcess } from './support/process.js';
import { replicaEnv, type Stack, startStack } from './support/stack.js';

/**
 * Two real Switchboard processes share one Postgres: the test's own in-process server and a
 * child process running the built CLI.
 */
// Needs Postgres whatever SWITCHBOARD_TEST_ENGINE says; skipped, with a warning, when none answers.
const withPostgres = describe.skipIf(!postgresAvailableFor('multi-process.test.ts'));

withPostgres(`refresh across processes on Postgres${WITHOUT_POSTGRES}`, () => {
  let stack: Stack;
  let other: ServerProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`build the server first (npm run build): ${CLI} is missing`);
    stack = await startStack({ listen: true, engine: 'postgres', sandbox: { rotateRefreshTokens: true } });
    await stack.createConnection('MY_GMAIL', 'gmail');
    env = replicaEnv(stack);
    other = await startServerProcess(env);
  });
  afterAll(async () => {
    other?.child.kill('SIGKILL');
    await stack?.close();
  });

  async function execute(baseUrl: string, accountId: string) {
    const response = await fetch(`${baseUrl}/api/v1/execute_tool`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        tool_name: 'gmail_fetch_mails',
        connected_account_id: accountId,
        params: { max_results: 1 },
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function expire(accountId: string, email: string) {
    // Both the provider and Switchboard consider the access token dead.
    const user = stack.sandbox.state.findUser(email);
    if (!user) throw new Error('seeded user missing');
    stack.sandbox.state.oauth.expireAccessTokensOf(user);
    await stack.db.db
      .updateTable('connected_accounts')
      .set({ token_expires_at: new Date(Date.now() - 60_000).toISOString() })
      .where('id', '=', accountId)
      .execute();
  }

  const refreshCalls = () => stack.sandbox.state.readCounters().tokenCalls.refresh_token ?? 0;

  it('refreshes an expired token exactly once when 20 callers spread over two processes ask at once', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'shared-user', 'john.doe@example.com');
    await expire(accountId, 'john.doe@example.com');
    // Make the provider slow, so that both processes are inside their refresh at the same time.
    stack.sandbox.state.addFault({ match: { method: 'POST', pathPrefix: '/token' }, delayMs: 300, times: 5 });
    const before = refreshCalls();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => execute(i % 2 === 0 ? stack.url : (other?.url ?? ''), accountId)),
    );
    stack.sandbox.state.faults.clear();
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(refreshCalls() - before).toBe(1);
  });

  it('keeps the account usable after the process is killed between the refresh answer and the commit', async () => {
    const accountId = await stack.connectAccount('MY_GMAIL', 'crash-user', 'jane.doe@example.com');
    await expire(accountId, 'jane.doe@example.com');
    const before = refreshCalls();
    // The provider rotates the refresh token, then holds its answer: the process dies waiting.
    stack.sandbox.state.addFault({ match: { method: 'POST', pathPrefix: '/token' }, delayAfterMs: 5_000 });
    const victim = other;
    if (!victim) throw new Error('no child process');
    const doomed = execute(victim.url, accountId).catch((error: unknown) => error);
    const deadline = Date.now() + 5_000;
    while (refreshCalls() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(refreshCalls()).toBe(before + 1);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await doomed;

    const row = await stack.db.db
      .selectFrom('connected_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('ACTIVE');

    // After a restart the account still works: the provider still honours the previous refresh token.
    other = await startServerProcess(env);
    const after = await execute(other.url, accountId);
    expect(after.status).toBe(200);
    expect(refreshCalls()).toBe(before + 2);
  });
});
