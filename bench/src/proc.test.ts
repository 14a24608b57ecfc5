import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { cpuMs, mainThreadCpuMs, processState } from './proc.js';

/**
 * Keeps the calling thread busy until the process has used `ms` more CPU (getrusage, not
 * /proc): a spin timed by the wall clock gets only part of its time on a loaded machine.
 */
const spin = (ms: number) => {
  const used = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const until = used() + ms;
  const deadline = performance.now() + 20 * ms;
  while (used() < until && performance.now() < deadline);
};

describe('mainThreadCpuMs', () => {
  it('counts the main thread and leaves out the work of other threads', async () => {
    const pid = process.pid;
    const before = { all: cpuMs(pid), main: mainThreadCpuMs(pid) };
    // Another thread spins for 400 ms of CPU (as `spin`) while the main thread sleeps in the event loop.
    const worker = new Worker(
      `const used = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };
       const until = used() + 400, deadline = performance.now() + 8000;
       while (used() < until && performance.now() < deadline);
       require('node:worker_threads').parentPort.postMessage(0);`,
      { eval: true },
    );
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    const afterWorker = { all: cpuMs(pid), main: mainThreadCpuMs(pid) };
    spin(300);
    const afterSpin = { all: cpuMs(pid), main: mainThreadCpuMs(pid) };

    // /proc counts in 10 ms ticks; the spins are counted in CPU time, so a loaded machine only makes them longer.
    expect(afterWorker.all - before.all).toBeGreaterThanOrEqual(250);
    expect(afterWorker.main - before.main).toBeLessThan(150);
    expect(afterSpin.main - afterWorker.main).toBeGreaterThanOrEqual(200);
    expect(afterSpin.main).toBeLessThanOrEqual(afterSpin.all);
  });

  it('is 0 for a process that is gone, as cpuMs is', () => {
    expect(mainThreadCpuMs(2 ** 22 + 1)).toBe(0);
    expect(cpuMs(2 ** 22 + 1)).toBe(0);
  });
});

describe('startChild', () => {
  it('stops the servers it started and removes its temporary folders when a signal ends the harness', async () => {
    // The built module, as the harness runs it (npm test builds first). The "server" is a node
    // that ignores SIGTERM, as a server in the middle of a graceful stop would keep running.
    const module = new URL('../dist/proc.js', import.meta.url).href;
    const server = `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);`;
    const harness = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startChild, tempDir } = await import(${JSON.stringify(module)});
         const folder = tempDir('switchboard-bench-test-');
         const child = await startChild('server', ['-e', ${JSON.stringify(server)}], {}, 'ready');
         console.log(JSON.stringify({ pid: child.pid, folder: folder.path }));
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(harness.stdout, 'data')) as [Buffer];
    const { pid, folder } = JSON.parse(line.toString()) as { pid: number; folder: string };
    expect(pid).toBeGreaterThan(0);
    expect(existsSync(folder)).toBe(true);
    // Running, not a zombie: the harness ends before it could reap the child.
    const alive = () => processState(pid)?.running === true;
    try {
      expect(alive()).toBe(true);
      const exited = once(harness, 'exit');
      harness.kill('SIGINT');
      const [, signal] = await exited;
      expect(signal).toBe('SIGINT');
      // A signal is delivered at once but acted on when the process is next scheduled.
      for (let i = 0; i < 50 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(alive()).toBe(false);
      expect(existsSync(folder)).toBe(false);
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
