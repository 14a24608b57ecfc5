import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { cpuMs, mainThreadCpuMs } from './proc.js';

/** Keeps the calling thread busy for `ms` of wall time. */
const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('mainThreadCpuMs', () => {
  it('counts the main thread and leaves out the work of other threads', async () => {
    const pid = process.pid;
    const before = { all: cpuMs(pid), main: mainThreadCpuMs(pid) };
    // Another thread spins for 400 ms while the main thread sleeps in the event loop.
    const worker = new Worker(
      'const until = performance.now() + 400; while (performance.now() < until); require("node:worker_threads").parentPort.postMessage(0);',
      { eval: true },
    );
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    const afterWorker = { all: cpuMs(pid), main: mainThreadCpuMs(pid) };
    spin(300);
    const afterSpin = { all: cpuMs(pid), main: mainThreadCpuMs(pid) };

    // /proc counts in 10 ms ticks, and a shared machine may take some of a spin's time away.
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
