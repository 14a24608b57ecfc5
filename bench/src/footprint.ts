import { cannon, FETCH_MAILS_BODY, FETCH_MAILS_HEADERS } from './load.js';
import { rssMb, sleep, tempDir } from './proc.js';
import { startSwitchboard } from './stack.js';

export interface StartResult {
  firstStartMs: number;
  restartMs: number;
  /** RSS 3 s after ready: startup garbage not yet collected. */
  readyRssMb: number;
  /** RSS EARLY_IDLE_S after ready: before or after V8's memory reducer ran, depending on the host. */
  earlyIdleRssMb: number;
  /** RSS after IDLE_S of no requests, once V8's memory reducer has run. */
  idleRssMb: number;
}

/**
 * Idle RSS is read once V8's memory reducer has given the start's garbage back, which takes
 * 16-40 s after ready on this VM (the report's footprint note says why); the 20 s reading,
 * which fell on either side of that moment, is kept beside it.
 */
export const IDLE_S = 60;
export const EARLY_IDLE_S = 20;

/** The embedded default (SQLite, mounted sandbox, key file): spawn → "ready", first and second start. */
export async function startAndIdle(): Promise<StartResult> {
  const { path: dataDir, remove } = tempDir('switchboard-start-');
  try {
    const first = await startSwitchboard({ embedded: true, dataDir });
    const firstStartMs = first.readyMs;
    await first.stop();
    const second = await startSwitchboard({ embedded: true, dataDir });
    await sleep(3_000);
    const readyRssMb = rssMb(second.pid);
    await sleep((EARLY_IDLE_S - 3) * 1000);
    const earlyIdleRssMb = rssMb(second.pid);
    await sleep((IDLE_S - EARLY_IDLE_S) * 1000);
    const idleRssMb = rssMb(second.pid);
    await second.stop();
    return { firstStartMs, restartMs: second.readyMs, readyRssMb, earlyIdleRssMb, idleRssMb };
  } finally {
    remove();
  }
}

export interface SoakResult {
  seconds: number;
  calls: number;
  failures: number;
  samples: { atS: number; rssMb: number }[];
  /** Mean RSS over the last third minus the mean over the first third (after the first sample). */
  growthMb: number;
}

/** Steady tools/call load at concurrency 10, RSS sampled after every slice. */
export async function soak(pid: number, urls: string[], seconds: number): Promise<SoakResult> {
  const slice = Math.min(15, Math.max(2, Math.floor(seconds / 10)));
  const samples: SoakResult['samples'] = [{ atS: 0, rssMb: rssMb(pid) }];
  let calls = 0;
  let failures = 0;
  const started = performance.now();
  while ((performance.now() - started) / 1000 + slice <= seconds + 0.5) {
    const result = await cannon({
      label: 'soak',
      urls,
      body: FETCH_MAILS_BODY,
      headers: FETCH_MAILS_HEADERS,
      connections: 10,
      durationS: slice,
    });
    calls += result.requests;
    failures += result.failures;
    samples.push({ atS: Math.round((performance.now() - started) / 1000), rssMb: rssMb(pid) });
  }
  const body = samples.slice(1);
  const third = Math.max(1, Math.floor(body.length / 3));
  const mean = (xs: { rssMb: number }[]) => xs.reduce((n, x) => n + x.rssMb, 0) / Math.max(1, xs.length);
  return {
    seconds: Math.round((performance.now() - started) / 1000),
    calls,
    failures,
    samples,
    growthMb: mean(body.slice(-third)) - mean(body.slice(0, third)),
  };
}
