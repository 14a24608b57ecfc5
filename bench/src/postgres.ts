import { readFileSync } from 'node:fs';
import pg from 'pg';
import { affinityOf, cpuMs, setAffinity, untilStopped } from './proc.js';

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema per benchmark stack; its name doubles as the application_name of its backends. */
export class BenchSchema {
  private constructor(readonly name: string) {}

  static async create(label: string): Promise<BenchSchema> {
    const name = `bench_${label}_${process.pid}_${Date.now().toString(36)}`;
    await withClient((client) => client.query(`CREATE SCHEMA ${name}`));
    return new BenchSchema(name);
  }

  /** DATABASE_URL for a Switchboard process: our schema first on the search path. */
  get databaseUrl(): string {
    const options = encodeURIComponent(`-c search_path=${this.name}`);
    return `${POSTGRES_URL}?options=${options}&application_name=${this.name}`;
  }

  async backendPids(): Promise<number[]> {
    return withClient(async (client) => {
      const result = await client.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
        [this.name],
      );
      return result.rows.map((row) => row.pid);
    });
  }

  /** CPU ms of this schema's backends, by pid (a backend that ends takes its count along). */
  async backendCpu(): Promise<Map<number, number>> {
    const pids = await this.backendPids();
    return new Map(pids.map((pid) => [pid, cpuMs(pid)]));
  }

  async drop(): Promise<void> {
    await withClient((client) => client.query(`DROP SCHEMA IF EXISTS ${this.name} CASCADE`));
  }

  async query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    return withClient(async (client) => {
      await client.query(`SET search_path TO ${this.name}`);
      return (await client.query<T>(text, values)).rows;
    });
  }
}

/** CPU spent between two samples, a backend first seen at the end counts from zero. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, end] of after) {
    const start = before.get(pid);
    total += end - (start ?? 0);
  }
  return total;
}

export async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * The postmaster's pid when the Postgres server runs on this machine (from postmaster.pid in
 * its data directory); undefined when it runs elsewhere or this role may not read that path.
 */
async function localPostmaster(): Promise<number | undefined> {
  try {
    const dir = await withClient(
      async (client) =>
        (await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir")).rows[0]?.dir,
    );
    const postmaster = Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]);
    if (!Number.isInteger(postmaster) || !readFileSync(`/proc/${postmaster}/comm`, 'utf8').startsWith('postgres'))
      return undefined;
    return postmaster;
  } catch {
    return undefined;
  }
}

/** A process and its children as /proc lists them now (none if it has ended). */
function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    return [pid, ...children.filter(Boolean).map(Number)];
  } catch {
    return [];
  }
}

/**
 * The Postgres server's processes when it runs on this machine: the postmaster and its
 * children (backends, checkpointer, WAL writer, autovacuum). None otherwise.
 */
export async function localPostgresPids(): Promise<number[]> {
  const postmaster = await localPostmaster();
  return postmaster === undefined ? [] : withChildren(postmaster);
}

/**
 * Moves a local Postgres server (every process of it; backends forked later inherit the
 * postmaster's CPUs) onto `cpus` while the cores are split, as a database on a box of its own
 * would not take the measured servers' core. Gives the function that puts it back on the CPUs
 * it had, or undefined where it could not be moved (not local, not allowed). A SIGINT or
 * SIGTERM meanwhile puts it back before the harness ends: a run stopped with Ctrl+C must not
 * leave the database on one CPU (and the next run would take that for where it belongs).
 */
export async function pinPostgres(cpus: string): Promise<(() => void) | undefined> {
  const postmaster = await localPostmaster();
  if (postmaster === undefined) return undefined;
  let before: string;
  try {
    before = affinityOf(postmaster).join(',');
    setAffinity(postmaster, cpus);
  } catch {
    return undefined;
  }
  const moveAll = (to: string) => {
    for (const pid of withChildren(postmaster)) {
      try {
        setAffinity(pid, to);
      } catch {
        // A backend that ended between the listing and the move.
      }
    }
  };
  const forget = untilStopped(() => moveAll(before));
  const restore = () => {
    forget();
    moveAll(before);
  };
  moveAll(cpus);
  return restore;
}
