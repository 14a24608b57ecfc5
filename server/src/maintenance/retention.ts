import { type Kysely, sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { pruneMcpOAuth, REVOKED_GRANT_KEEP_MS, UNUSED_CLIENT_KEEP_MS } from '../mcp-auth/pruning.js';

/** Authentication links and requests stay this long after they expire, so a late click still gets "this link expired". */
export const EXPIRED_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * Rows per DELETE. A batch is one short statement (on Postgres it locks only its own rows; on
 * SQLite it holds the write lock for a few milliseconds), so requests interleave with a prune
 * of any size.
 */
export const PRUNE_BATCH_ROWS = 500;

/** How often each process prunes. Several replicas may prune at once: deletes are idempotent. */
export const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

export interface RetentionSettings {
  /** Days a tool_call_logs row is kept; 0 keeps them forever. */
  logRetentionDays: number;
  /** Days an account_events row (an account's history) is kept; 0 keeps them forever. */
  accountEventRetentionDays: number;
}

export interface Pruned {
  authRequests: number;
  authLinks: number;
  /** User verifications (the app's confirmation of who consented), a day after they expired. */
  userVerifications: number;
  toolCallLogs: number;
  /** Account history rows older than their retention. */
  accountEvents: number;
  /** Expired MCP OAuth requests, codes and refresh tokens, long-revoked grants and unused clients (mcp-auth/pruning.ts). */
  mcpOAuth: number;
}

type PrunedTable = 'auth_requests' | 'auth_links' | 'user_verifications' | 'tool_call_logs' | 'account_events';

/**
 * Deletes what nobody can use any more: authentication requests, links and user
 * verifications a day after they expired (spent or not), audit rows older than the log
 * retention, and account history older than its own retention. Runs on an interval
 * in every process; a timer that never holds the process open.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: { db: Kysely<Database>; clock: Clock; logger: Logger },
    private readonly settings: RetentionSettings,
  ) {}

  /** Prunes every `intervalMs`, the first time after a random part of it (replicas started together spread out). */
  start(intervalMs = PRUNE_INTERVAL_MS): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      this.running ??= this.pruneOnce()
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'pruning old rows failed; next try later'))
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setTimeout(
      () => {
        tick();
        this.timer = setInterval(tick, intervalMs);
        this.timer.unref();
      },
      Math.floor(Math.random() * intervalMs),
    );
    this.timer.unref();
  }

  /** No new prune starts; resolves when a running one has finished its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over every table, batch by batch. */
  async pruneOnce(): Promise<Pruned> {
    const now = this.deps.clock.now();
    const expiredBefore = new Date(now - EXPIRED_GRACE_MS).toISOString();
    const pruned: Pruned = {
      // Requests before the links they were opened from (no foreign key, but the natural order).
      authRequests: await this.deleteBatched('auth_requests', 'expires_at', expiredBefore),
      authLinks: await this.deleteBatched('auth_links', 'expires_at', expiredBefore),
      userVerifications: await this.deleteBatched('user_verifications', 'expires_at', expiredBefore),
      toolCallLogs: 0,
      accountEvents: 0,
      mcpOAuth: await pruneMcpOAuth(
        this.deps.db,
        {
          expiredBefore,
          revokedBefore: new Date(now - REVOKED_GRANT_KEEP_MS).toISOString(),
          registeredBefore: new Date(now - UNUSED_CLIENT_KEEP_MS).toISOString(),
        },
        PRUNE_BATCH_ROWS,
        () => this.stopped,
      ),
    };
    if (this.settings.logRetentionDays > 0) {
      const loggedBefore = new Date(now - this.settings.logRetentionDays * 86_400_000).toISOString();
      pruned.toolCallLogs = await this.deleteBatched('tool_call_logs', 'created_at', loggedBefore);
    }
    if (this.settings.accountEventRetentionDays > 0) {
      const happenedBefore = new Date(now - this.settings.accountEventRetentionDays * 86_400_000).toISOString();
      pruned.accountEvents = await this.deleteBatched('account_events', 'created_at', happenedBefore);
    }
    if (Object.values(pruned).some((count) => count > 0))
      this.deps.logger.info(pruned, 'pruned expired authentication rows, old audit rows and old account history');
    return pruned;
  }

  private async deleteBatched(table: PrunedTable, column: 'expires_at' | 'created_at', before: string) {
    let total = 0;
    for (;;) {
      // DELETE … LIMIT is not portable; a key subquery with LIMIT works on SQLite and Postgres.
      const result = await sql`
        delete from ${sql.table(table)} where id in (
          select id from ${sql.table(table)} where ${sql.ref(column)} < ${before} limit ${PRUNE_BATCH_ROWS}
        )`.execute(this.deps.db);
      const deleted = Number(result.numAffectedRows ?? 0);
      total += deleted;
      if (deleted < PRUNE_BATCH_ROWS || this.stopped) return total;
    }
  }
}
