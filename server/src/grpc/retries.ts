import { createHash } from 'node:crypto';
import { OldestFirst } from '../cache/oldest-first.js';

/** A repeat this long after a failure is taken for a retry (the Python SDK repeats at once). */
const RETRY_WINDOW_MS = 30_000;
/** Failures remembered per process; the oldest goes first. */
const MAX_REMEMBERED = 10_000;

/**
 * Which ExecuteTool calls are retries. The Python SDK calls again, twice, after every error
 * but UNAUTHENTICATED, with the same request and no header that says so (nor does the Node
 * SDK, which retries only UNAVAILABLE). So a call is attempt n + 1 when the same client sent
 * the same request and it failed n times in a row within the window. Per process: a retry that
 * lands on another replica is logged as attempt 1.
 */
export class RetryWatch {
  private readonly failures = new Map<string, { attempts: number; at: number }>();
  private readonly oldest = new OldestFirst(this.failures);

  constructor(private readonly now: () => number) {}

  /** The key of a request: who sent it and every byte of what it asked, digested. */
  key(clientId: string, request: Uint8Array): string {
    return createHash('sha256').update(clientId).update('\0').update(request).digest('base64url');
  }

  /**
   * Whether any failure is remembered. While none is, every call is a first attempt and needs
   * no key: re-encoding and digesting each request was 0.8 % of the server's busy CPU in the
   * gRPC bench (bench/src/grpc.ts), spent on calls that then succeeded.
   */
  get remembersFailures(): boolean {
    return this.failures.size > 0;
  }

  /** The attempt number this call is (1 for a first call). */
  attempt(key: string): number {
    const failed = this.failures.get(key);
    if (!failed || this.now() - failed.at > RETRY_WINDOW_MS) return 1;
    return failed.attempts + 1;
  }

  failed(key: string, attempt: number): void {
    this.failures.delete(key);
    this.failures.set(key, { attempts: attempt, at: this.now() });
    if (this.failures.size > MAX_REMEMBERED) this.oldest.evict();
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}
