import type { Kysely, Selectable } from 'kysely';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { Clock } from '../clock.js';
import { ENCRYPTED_COLUMNS } from '../crypto/contexts.js';
import type { Encryptor } from '../crypto/envelope.js';
import { newId } from '../crypto/random.js';
import type { ConnectionsTable, Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { OAuthApp } from '../oauth/client.js';

export type ConnectionRow = Selectable<ConnectionsTable>;
export type ConnectionTarget = 'sandbox' | 'provider';

export interface ConnectionInput {
  name: string;
  provider: string;
  target: ConnectionTarget;
  oauthClientId: string;
  /** undefined = keep; null = clear */
  oauthClientSecret?: string | null;
  scopes: string[];
  /** undefined = keep; null = none */
  userVerifyUrl?: string | null;
}

const secretContext = ENCRYPTED_COLUMNS.connectionClientSecret.context;

/** Storage of connections; the OAuth app secret is encrypted and never returned by the API. */
export class Connections {
  constructor(
    private readonly deps: { db: Kysely<Database>; encryptor: Encryptor; clock: Clock; changes: ChangeFeed },
  ) {}

  async create(input: ConnectionInput): Promise<ConnectionRow> {
    const id = newId('conn');
    const now = new Date(this.deps.clock.now()).toISOString();
    const secret = input.oauthClientSecret
      ? this.deps.encryptor.encrypt(input.oauthClientSecret, secretContext(id))
      : null;
    const row: ConnectionRow = {
      id,
      name: input.name,
      provider: input.provider,
      target: input.target,
      oauth_client_id: input.oauthClientId,
      oauth_client_secret_enc: secret?.ciphertext ?? null,
      key_id: secret?.keyId ?? null,
      scopes: JSON.stringify(input.scopes),
      user_verify_url: input.userVerifyUrl ?? null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.deps.db.insertInto('connections').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError('already_exists', `a connection named ${input.name} already exists`);
      throw error;
    }
    return row;
  }

  /**
   * Changes a connection. A new target (sandbox ⇄ provider) drops every grant of its
   * accounts in the same transaction: a token obtained at one target is never sent to the
   * other (a refresh on Postgres holds the account row, so it sees the old target or no
   * token at all), and the accounts wait for a new consent at the new target.
   */
  async update(id: string, patch: Partial<ConnectionInput>): Promise<ConnectionRow> {
    const existing = await this.get(id);
    const now = new Date(this.deps.clock.now()).toISOString();
    const values: Partial<ConnectionRow> = { updated_at: now };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.target !== undefined) values.target = patch.target;
    if (patch.oauthClientId !== undefined) values.oauth_client_id = patch.oauthClientId;
    if (patch.scopes !== undefined) values.scopes = JSON.stringify(patch.scopes);
    if (patch.userVerifyUrl !== undefined) values.user_verify_url = patch.userVerifyUrl;
    if (patch.oauthClientSecret === null) {
      values.oauth_client_secret_enc = null;
      values.key_id = null;
    } else if (patch.oauthClientSecret !== undefined) {
      const secret = this.deps.encryptor.encrypt(patch.oauthClientSecret, secretContext(id));
      values.oauth_client_secret_enc = secret.ciphertext;
      values.key_id = secret.keyId;
    }
    const targetChanged = patch.target !== undefined && patch.target !== existing.target;
    try {
      // Mappings and accounts name their connection: cached targets and accounts carry its row.
      await this.deps.changes.write(['mcp', 'accounts'], async (trx) => {
        await trx.updateTable('connections').set(values).where('id', '=', id).execute();
        if (targetChanged) await dropGrants(trx, id, now);
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError('already_exists', `a connection named ${patch.name} already exists`);
      throw error;
    }
    return { ...existing, ...values };
  }

  async get(id: string): Promise<ConnectionRow> {
    const row = await this.deps.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found', `connection ${id} not found`);
    return row;
  }

  async findByName(name: string): Promise<ConnectionRow | undefined> {
    return this.deps.db.selectFrom('connections').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async getByName(name: string): Promise<ConnectionRow> {
    const row = await this.findByName(name);
    if (!row) throw new AppError('not_found', `connection ${name} not found`);
    return row;
  }

  async list(filter: { provider?: string; limit: number; offset: number }) {
    let query = this.deps.db.selectFrom('connections');
    if (filter.provider) query = query.where('provider', '=', filter.provider);
    const [rows, total] = await Promise.all([
      query
        .selectAll()
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(total.n) };
  }

  async delete(id: string): Promise<void> {
    await this.deps.changes.write(['mcp', 'accounts'], async (trx) => {
      const result = await trx.deleteFrom('connections').where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new AppError('not_found', `connection ${id} not found`);
    });
  }

  /** The OAuth app of a connection, decrypting its secret only when a token call needs it. */
  oauthApp(row: ConnectionRow): OAuthApp {
    return {
      provider: row.provider,
      target: row.target === 'provider' ? 'provider' : 'sandbox',
      clientId: row.oauth_client_id,
      clientSecret: () =>
        row.oauth_client_secret_enc && row.key_id
          ? this.deps.encryptor.decrypt(row.oauth_client_secret_enc, row.key_id, secretContext(row.id))
          : undefined,
      scopes: JSON.parse(row.scopes) as string[],
    };
  }
}

/**
 * Forgets the tokens of every account of a connection and puts them back to PENDING_AUTH
 * (disconnected ones stay so); token_version moves on, so no cache or racing refresh keeps
 * an old grant. Grants are not revoked at the old target: its OAuth app may already be gone.
 */
async function dropGrants(db: Kysely<Database>, connectionId: string, now: string): Promise<void> {
  await db
    .updateTable('connected_accounts')
    .set((eb) => ({
      status: eb.case().when('status', '=', 'DISCONNECTED').then('DISCONNECTED').else('PENDING_AUTH').end(),
      status_reason: eb
        .case()
        .when('status', '=', 'DISCONNECTED')
        .then(eb.ref('status_reason'))
        .else('target_changed')
        .end(),
      tokens_enc: null,
      key_id: null,
      token_expires_at: null,
      provider_account: null,
      token_version: eb('token_version', '+', 1),
      updated_at: now,
    }))
    .where('connection_id', '=', connectionId)
    .execute();
}

/** Unique-constraint violation on SQLite or Postgres. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
