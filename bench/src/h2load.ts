import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exitedChildrenCpuMs, tempDir, untilStopped } from './proc.js';

const run = promisify(execFile);

/** Whether nghttp2's h2load is installed (Debian: `apt-get install nghttp2-client`). */
export function h2loadAvailable(): boolean {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface H2loadRequest {
  url: string;
  /** HTTP/1.1 with one request at a time on each of `concurrency` connections, or HTTP/2 streams on one. */
  protocol: 'h1' | 'h2';
  concurrency: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

export interface H2loadRun {
  /** Every answered request's latency, ms. */
  latencies: number[];
  /** Answers whose HTTP status was not 200. */
  not200: number;
  elapsedS: number;
  /** h2load's own CPU (user + system), ms. */
  clientCpuMs: number;
}

/**
 * One run of h2load, a load generator in C: POSTs of `body` back to back, on `concurrency`
 * HTTP/1.1 connections or as `concurrency` streams of one HTTP/2 session (what the official SDKs
 * keep for gRPC), for `durationS`, or until `requests` have been answered: a timed run hangs up
 * on the calls in flight at its end, a counted one waits for every answer. The per-request log
 * gives the latencies; h2load checks only the HTTP status, so a caller that needs a gRPC status
 * counts it elsewhere (the server's metrics).
 */
export async function h2load(
  request: H2loadRequest,
  length: { durationS: number } | { requests: number },
): Promise<H2loadRun> {
  const { path: dir, remove } = tempDir('switchboard-h2load-');
  try {
    const bodyFile = join(dir, 'body');
    const logFile = join(dir, 'log');
    writeFileSync(bodyFile, request.body);
    const shape =
      request.protocol === 'h1'
        ? ['--h1', '-c', String(request.concurrency), '-m', '1']
        : ['-c', '1', '-m', String(request.concurrency)];
    const headers = Object.entries(request.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
    const cpuBefore = exitedChildrenCpuMs();
    const running = run(
      'h2load',
      [
        ...shape,
        '-t',
        '1',
        ...('requests' in length ? ['-n', String(length.requests)] : ['-D', String(length.durationS)]),
        '-d',
        bodyFile,
        '--log-file',
        logFile,
        ...headers,
        request.url,
      ],
      { maxBuffer: 1 << 20 },
    );
    // A signal that ends the harness ends its h2load too, rather than leaving it to load a stopped server.
    const forget = untilStopped(() => running.child.kill('SIGKILL'));
    const { stdout } = await running.finally(forget);
    const clientCpuMs = exitedChildrenCpuMs() - cpuBefore;
    const finished = /finished in ([\d.]+)(ms|s),/.exec(stdout);
    if (!finished) throw new Error(`h2load printed no result:\n${stdout}`);
    const latencies: number[] = [];
    let not200 = 0;
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      const [, status, us] = line.split('\t');
      if (us === undefined) continue;
      latencies.push(Number(us) / 1000);
      if (status !== '200') not200++;
    }
    const elapsed = Number(finished[1]);
    return { latencies, not200, elapsedS: finished[2] === 'ms' ? elapsed / 1000 : elapsed, clientCpuMs };
  } finally {
    remove();
  }
}
