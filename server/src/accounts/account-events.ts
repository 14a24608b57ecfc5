import type { AccountEvent } from '@switchboard/sdk';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { newSortableId } from '../crypto/random.js';
import type { Database } from '../db/schema.js';

export const ACCOUNT_EVENT_TYPES = [
  'account.link_issued',
  'account.consent_completed',
  'account.consent_failed',
  'account.verification_requested',
  'account.verified',
  'account.verification_failed',
  'account.verification_expired',
  'account.identity_mismatch',
  'account.refresh_failed',
  'account.disconnected',
  'account.deleted',
] as const;
export type AccountEventType = (typeof ACCOUNT_EVENT_TYPES)[number];

/** Facts an event may carry. Never a token, a link or auth request secret, or a code. */
export interface AccountEventDetail {
  link_id?: string;
  link_expiry?: string;
  /** What asked for a link: the management API, a tool error, an MCP auth state, the dashboard. */
  source?: string;
  user_verification?: boolean;
  provider_account?: string;
  /** The provider account that tried to consent, when it is not the bound one. */
  attempted_provider_account?: string;
  reason?: string;
}

type Subject = { id: string; connection_id: string | null; identifier: string };

/** The append-only lifecycle history of connected accounts (table account_events). */
export class AccountEvents {
  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock }) {}

  async record(
    account: Subject,
    type: AccountEventType,
    detail: AccountEventDetail = {},
    db: Kysely<Database> | Transaction<Database> = this.deps.db,
  ): Promise<void> {
    const at = this.deps.clock.now();
    await db
      .insertInto('account_events')
      .values({
        id: newSortableId('evt', at),
        connected_account_id: account.id,
        connection_id: account.connection_id,
        identifier: account.identifier,
        type,
        detail: JSON.stringify(detail),
        created_at: new Date(at).toISOString(),
      })
      .execute();
  }

  /** An account's events, oldest first. */
  async list(filter: { accountId: string; type?: string; limit: number; offset: number }) {
    let q = this.deps.db.selectFrom('account_events').where('connected_account_id', '=', filter.accountId);
    if (filter.type) q = q.where('type', '=', filter.type);
    const [rows, total] = await Promise.all([
      q
        .selectAll()
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return {
      events: rows.map(
        (row): AccountEvent => ({
          id: row.id,
          connected_account_id: row.connected_account_id,
          connection_id: row.connection_id ?? '',
          identifier: row.identifier,
          type: row.type as AccountEventType,
          detail: JSON.parse(row.detail) as Record<string, unknown>,
          created_at: row.created_at,
        }),
      ),
      total: Number(total.n),
    };
  }
}
