import { FETCH_MAILS_BODY, FETCH_MAILS_HEADERS, type LoadResult, roundRobin, WARM_UP_CALLS } from './load.js';
import { BenchSchema, cpuDelta } from './postgres.js';
import { cpuMs, freePort } from './proc.js';
import {
  Admin,
  SANDBOX_EMAIL,
  type Sandbox,
  type Switchboard,
  sandboxRefreshCount,
  startSandbox,
  startSwitchboard,
} from './stack.js';

export interface ScaleOutResult {
  replicas: number;
  load: LoadResult;
  perReplicaCalls: number[];
  expiredAccounts: number;
  refreshes: number;
  ensure: { users: number; callsPerUser: number; distinctIds: number; created: number; rows: number; failures: number };
  /** CPU ms per tools/call. */
  cpu: { switchboard: number; postgres: number; sandbox: number };
}

/**
 * Three Switchboard processes on one Postgres schema, one public URL and one key, as
 * replicas behind a load balancer; every request goes to the next replica in turn.
 */
export async function scaleOut(options: {
  users: number;
  durationS: number;
  connections: number;
}): Promise<ScaleOutResult> {
  const sandbox: Sandbox = await startSandbox();
  const schema = await BenchSchema.create('r');
  const replicas: Switchboard[] = [];
  try {
    const ports = [await freePort(), await freePort(), await freePort()];
    const publicUrl = `http://127.0.0.1:${ports[0]}`;
    for (const port of ports) {
      replicas.push(
        await startSwitchboard({
          port,
          publicUrl,
          sandboxUrl: sandbox.url,
          databaseUrl: schema.databaseUrl,
          // Each replica has its own disk; only the database is shared.
        }),
      );
    }
    const first = replicas[0];
    if (!first) throw new Error('no replica');
    const admin = await Admin.forServer(first, schema.databaseUrl);
    await admin.createConnection('MY_GMAIL', 'gmail');
    await admin.createConfig('bench', [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }]);
    const secrets: string[] = [];
    for (let i = 0; i < options.users; i++) {
      const instance = await admin.ensureInstance('bench', `user-${i}`);
      await admin.connectAll(instance.id);
      secrets.push(new URL(instance.url).pathname);
    }
    const urlFor = (n: number) =>
      `${replicas[n % replicas.length]?.url}${secrets[Math.floor(n / replicas.length) % secrets.length]}`;
    const perReplicaCalls = replicas.map(() => 0);

    // Warm every replica (WARM_UP_CALLS each), then measure with a mid-run expiry of every account's token.
    for (let calls = 0; calls < WARM_UP_CALLS * replicas.length; ) {
      const warm = await roundRobin({
        label: 'warm-up',
        urlFor,
        body: FETCH_MAILS_BODY,
        headers: FETCH_MAILS_HEADERS,
        connections: 6,
        durationS: 2,
      });
      if (warm.requests === 0) throw new Error('no replica answered during the warm-up');
      calls += warm.requests;
    }
    const refreshesBefore = await sandboxRefreshCount(sandbox.url);
    const pgBefore = await schema.backendCpu();
    const sbBefore = replicas.map((r) => cpuMs(r.pid));
    const sandboxBefore = cpuMs(sandbox.pid);
    const expiry = (async () => {
      await new Promise((resolve) => setTimeout(resolve, (options.durationS * 1000) / 2));
      // The provider kills the access tokens and the stored expiry says "expiring now":
      // every replica sees it at once, only one may refresh each account.
      await schema.query("UPDATE connected_accounts SET token_expires_at = $1 WHERE status = 'ACTIVE'", [
        new Date(Date.now() + 1_000).toISOString(),
      ]);
      await fetch(`${sandbox.url}/__sandbox/users/${encodeURIComponent(SANDBOX_EMAIL)}/expire-tokens`, {
        method: 'POST',
      });
    })();
    const load = await roundRobin({
      label: `${replicas.length} replicas, round-robin`,
      urlFor: (n) => {
        const replica = n % replicas.length;
        perReplicaCalls[replica] = (perReplicaCalls[replica] ?? 0) + 1;
        return urlFor(n);
      },
      body: FETCH_MAILS_BODY,
      headers: FETCH_MAILS_HEADERS,
      connections: options.connections,
      durationS: options.durationS,
    });
    await expiry;
    const sbCpu = replicas.reduce((n, r, i) => n + cpuMs(r.pid) - (sbBefore[i] ?? 0), 0);
    const pgCpu = cpuDelta(pgBefore, await schema.backendCpu());
    const sandboxCpu = cpuMs(sandbox.pid) - sandboxBefore;
    const refreshes = (await sandboxRefreshCount(sandbox.url)) - refreshesBefore;

    // Ensure-instance for new users, the same user asked on every replica at once.
    const ensureUsers = 10;
    const callsPerUser = 9;
    let created = 0;
    let failures = 0;
    const ids = new Map<string, Set<string>>();
    await Promise.all(
      Array.from({ length: ensureUsers * callsPerUser }, async (_, n) => {
        const user = `late-user-${n % ensureUsers}`;
        const replica = replicas[n % replicas.length];
        const result = await admin.call<{ instance?: { id: string } }>(
          'POST',
          '/api/v1/mcp/instances',
          { config_name: 'bench', user_identifier: user },
          replica?.url,
        );
        if (result.status === 201) created++;
        else if (result.status !== 200) failures++;
        const set = ids.get(user) ?? new Set<string>();
        if (result.body.instance) set.add(result.body.instance.id);
        ids.set(user, set);
      }),
    );
    const rows = await schema.query<{ n: string }>(
      "SELECT count(*) AS n FROM mcp_instances WHERE user_identifier LIKE 'late-user-%'",
    );
    return {
      replicas: replicas.length,
      load,
      perReplicaCalls,
      expiredAccounts: options.users,
      refreshes,
      ensure: {
        users: ensureUsers,
        callsPerUser,
        distinctIds: [...ids.values()].reduce((n, s) => n + s.size, 0),
        created,
        rows: Number(rows[0]?.n ?? 0),
        failures,
      },
      cpu: {
        switchboard: sbCpu / Math.max(1, load.requests),
        postgres: pgCpu / Math.max(1, load.requests),
        sandbox: sandboxCpu / Math.max(1, load.requests),
      },
    };
  } finally {
    for (const replica of replicas) {
      await replica.stop();
      replica.removeDataDir();
    }
    await sandbox.stop();
    await schema.drop();
  }
}
