import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { localPostgresPids, pinPostgres, withClient } from './postgres.js';
import { affinityOf } from './proc.js';

/** Runs `use` with the pid of a backend that stays open meanwhile. */
const withBackend = <T>(use: (pid: number) => T | Promise<T>) =>
  withClient(async (client) =>
    use((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0),
  );

const cpus = affinityOf(process.pid);
// Moving another user's processes takes root (or CAP_SYS_NICE); moving them anywhere, two CPUs.
const canMove = process.getuid?.() === 0 && cpus.length > 1;

describe('the local Postgres server (tests run against one on 127.0.0.1)', () => {
  it('lists the postmaster and its children, among them a backend that serves us', async () => {
    await withBackend(async (backend) => {
      const pids = await localPostgresPids();
      expect(pids.length).toBeGreaterThan(2);
      expect(pids).toContain(backend);
    });
  });

  it.skipIf(!canMove)(
    'moves every process of it onto the given CPUs, backends forked later too, and back',
    async () => {
      const target = cpus[cpus.length - 1] ?? 0;
      const [postmaster] = await localPostgresPids();
      if (postmaster === undefined) throw new Error('no local Postgres');
      const before = affinityOf(postmaster);
      const unpin = await pinPostgres(String(target));
      if (!unpin) throw new Error('pinPostgres could not move the server');
      try {
        expect(affinityOf(postmaster)).toEqual([target]);
        for (const pid of await localPostgresPids()) {
          // Other suites' backends come and go meanwhile: one listed may have ended since.
          let now: number[];
          try {
            now = affinityOf(pid);
          } catch {
            continue;
          }
          expect(now).toEqual([target]);
        }
        // A backend forked after the move inherits the postmaster's CPUs.
        await withBackend((backend) => expect(affinityOf(backend)).toEqual([target]));
      } finally {
        await unpin();
      }
      expect(affinityOf(postmaster)).toEqual(before);
      await withBackend((backend) => expect(affinityOf(backend)).toEqual(before));
    },
  );

  it.skipIf(!canMove)('is put back when the harness is stopped by a signal while it is moved', async () => {
    const target = cpus[cpus.length - 1] ?? 0;
    const [postmaster] = await localPostgresPids();
    if (postmaster === undefined) throw new Error('no local Postgres');
    const before = affinityOf(postmaster);
    // The built module, as the harness runs it (npm test builds first).
    const module = new URL('../dist/postgres.js', import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { pinPostgres } = await import(${JSON.stringify(module)});
         console.log((await pinPostgres(${JSON.stringify(String(target))})) ? 'moved' : 'not moved');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    expect(line.toString().trim()).toBe('moved');
    expect(affinityOf(postmaster)).toEqual([target]);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [, signal] = await exited;
    expect(signal).toBe('SIGTERM');
    expect(affinityOf(postmaster)).toEqual(before);
    await withBackend((backend) => expect(affinityOf(backend)).toEqual(before));
  });
});
