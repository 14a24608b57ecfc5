import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { Clock } from '../clock.js';
import { hashSecret, newId, newSecret, safeEqual } from '../crypto/random.js';
import type { Engine } from '../db/database.js';
import { insertFirstRow } from '../db/first-row.js';
import type { ApiClientsTable, Database } from '../db/schema.js';
import { AppError } from '../errors.js';

/** What a management client may do: `admin` everything, `read` only reads (GET). */
export type ClientScope = 'admin' | 'read';
export const CLIENT_SCOPES: readonly ClientScope[] = ['admin', 'read'];

export type ApiClientRow = Omit<Selectable<ApiClientsTable>, 'secret_hash'>;

export interface IssuedClient {
  id: string;
  client_id: string;
  client_secret: string;
  name: string;
  scope: ClientScope;
}

/** A client whose id and secret matched: what an access token is minted from. */
export interface VerifiedClient {
  id: string;
  name: string;
  scope: ClientScope;
  tokenVersion: number;
}

/** What an access token is checked against on every call (cached, emptied on change). */
interface ClientState {
  revoked: boolean;
  scope: ClientScope;
  tokenVersion: number;
}

const PUBLIC_COLUMNS = [
  'id',
  'client_id',
  'name',
  'scope',
  'token_version',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const;

/** Clients whose state is kept per process; a miss costs one primary-key read. */
const MAX_CACHED_CLIENTS = 10_000;

/** Creates management API credentials. The secret is returned once and stored only hashed. */
export async function createApiClient(
  db: Kysely<Database>,
  clock: Clock,
  name: string,
  options: { scope?: ClientScope } = {},
): Promise<IssuedClient> {
  const { issued, row } = newClient(clock, name, options.scope ?? 'admin');
  await db
    .insertInto('api_clients')
    .values({ ...row, last_used_at: null, revoked_at: null, token_version: 0 })
    .execute();
  return issued;
}

/** Fresh credentials and the row that stores them (the secret only hashed). */
function newClient(clock: Clock, name: string, scope: ClientScope) {
  return clientWith(clock, name, scope, { client_id: `sbc_${newSecret(12)}`, client_secret: `sbs_${newSecret(32)}` });
}

/** Given credentials and the row that stores them (the secret only hashed). */
function clientWith(
  clock: Clock,
  name: string,
  scope: ClientScope,
  credentials: { client_id: string; client_secret: string },
) {
  const issued: IssuedClient = { id: newId('cli'), ...credentials, name, scope };
  const row = {
    id: issued.id,
    client_id: issued.client_id,
    secret_hash: hashSecret(issued.client_secret),
    name,
    created_at: new Date(clock.now()).toISOString(),
    scope,
  };
  return { issued, row };
}

/**
 * The first admin client of the embedded default, created when the database has no client
 * yet; undefined when it has one, including one that another process starting at the same
 * moment has just created (insertFirstRow).
 */
export async function createFirstAdmin(
  db: Kysely<Database>,
  engine: Engine,
  clock: Clock,
): Promise<IssuedClient | undefined> {
  // The usual start (clients exist) takes no lock.
  if ((await countApiClients(db)) > 0) return undefined;
  const { issued, row } = newClient(clock, 'admin', 'admin');
  return (await insertFirstRow(db, engine, 'api_clients', { ...row, token_version: 0 })) ? issued : undefined;
}

/** What a start found of the declared admin client (Config.declaredAdmin). */
export type DeclaredAdminState = 'created' | 'present' | 'secret_differs' | 'revoked' | 'not_admin';

/**
 * Creates the admin client a deployment declares, when no client has its client_id yet. An
 * existing one is never changed: a rotation or revocation made since (dashboard, CLI, API)
 * must outlive every restart, so a start only reports how the row and the declaration differ.
 * Replicas starting at once insert it once (client_id is unique).
 */
export async function ensureDeclaredAdmin(
  db: Kysely<Database>,
  clock: Clock,
  declared: { clientId: string; clientSecret: string },
): Promise<DeclaredAdminState> {
  const { row: declaredRow } = clientWith(clock, 'admin', 'admin', {
    client_id: declared.clientId,
    client_secret: declared.clientSecret,
  });
  const inserted = await db
    .insertInto('api_clients')
    .values({ ...declaredRow, last_used_at: null, revoked_at: null, token_version: 0 })
    .onConflict((oc) => oc.column('client_id').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return 'created';
  const row = await db
    .selectFrom('api_clients')
    .select(['secret_hash', 'revoked_at', 'scope'])
    .where('client_id', '=', declared.clientId)
    .executeTakeFirstOrThrow();
  if (row.revoked_at) return 'revoked';
  if (row.scope !== 'admin') return 'not_admin';
  return safeEqual(declaredRow.secret_hash, row.secret_hash) ? 'present' : 'secret_differs';
}

/** The client when the pair is valid and not revoked, else undefined. */
export async function verifyApiClient(
  db: Kysely<Database>,
  clientId: string,
  clientSecret: string,
): Promise<VerifiedClient | undefined> {
  const row = await db
    .selectFrom('api_clients')
    .select(['id', 'name', 'secret_hash', 'revoked_at', 'scope', 'token_version'])
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  // Hash anyway when the client is unknown, so timing does not reveal which ids exist.
  const presented = hashSecret(clientSecret);
  if (!row || row.revoked_at) {
    safeEqual(presented, presented);
    return undefined;
  }
  if (!safeEqual(presented, row.secret_hash)) return undefined;
  return { id: row.id, name: row.name, scope: row.scope, tokenVersion: Number(row.token_version) };
}

/**
 * Whether some admin client can still get tokens. Production mode creates none itself (its
 * secret would sit in every log store), so its starts say how to make one while this is false.
 */
export async function hasActiveAdminClient(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectFrom('api_clients')
    .select('id')
    .where('scope', '=', 'admin')
    .where('revoked_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function countApiClients(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('api_clients')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Management API clients: listing, creation, revocation and secret rotation, and the check
 * every access token passes. Revoking or rotating bumps the `clients` scope of the change
 * feed, so every replica forgets the client's cached state within one poll (≤ 250 ms) and
 * the next call with an older token is refused.
 */
export class ApiClients {
  private readonly states: ScopedCache<string, ClientState | null>;

  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock; changes: ChangeFeed }) {
    this.states = deps.changes.cache(['clients'], MAX_CACHED_CLIENTS, { name: 'api_clients' });
  }

  create(name: string, scope: ClientScope = 'admin'): Promise<IssuedClient> {
    return createApiClient(this.deps.db, this.deps.clock, name, { scope });
  }

  verify(clientId: string, clientSecret: string): Promise<VerifiedClient | undefined> {
    return verifyApiClient(this.deps.db, clientId, clientSecret);
  }

  async list(): Promise<ApiClientRow[]> {
    return this.deps.db
      .selectFrom('api_clients')
      .select(PUBLIC_COLUMNS)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
  }

  /** By its id (`cli_…`) or its client_id (`sbc_…`). */
  async get(idOrClientId: string): Promise<ApiClientRow> {
    const row = await this.deps.db
      .selectFrom('api_clients')
      .select(PUBLIC_COLUMNS)
      .where((eb) => eb.or([eb('id', '=', idOrClientId), eb('client_id', '=', idOrClientId)]))
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `API client ${idOrClientId} not found`);
    return row;
  }

  /** Ends the client: no new tokens, and its issued tokens stop working on every replica. */
  async revoke(idOrClientId: string): Promise<ApiClientRow> {
    const row = await this.get(idOrClientId);
    if (row.revoked_at) return row;
    const revokedAt = new Date(this.deps.clock.now()).toISOString();
    await this.deps.changes.write(['clients'], async (trx) => {
      await trx
        .updateTable('api_clients')
        .set({ revoked_at: revokedAt })
        .where('id', '=', row.id)
        .where('revoked_at', 'is', null)
        .execute();
      await endDashboardSessions(trx, row.id);
    });
    return { ...row, revoked_at: revokedAt };
  }

  /** A new secret (shown once); the old secret and every token issued under it stop working. */
  async rotateSecret(idOrClientId: string): Promise<IssuedClient> {
    const row = await this.get(idOrClientId);
    if (row.revoked_at) throw new AppError('failed_precondition', `API client ${row.id} is revoked`);
    const clientSecret = `sbs_${newSecret(32)}`;
    await this.deps.changes.write(['clients'], async (trx) => {
      await trx
        .updateTable('api_clients')
        .set((eb) => ({ secret_hash: hashSecret(clientSecret), token_version: eb('token_version', '+', 1) }))
        .where('id', '=', row.id)
        .execute();
      // A dashboard sign-in was made with the old secret too.
      await endDashboardSessions(trx, row.id);
    });
    return { id: row.id, client_id: row.client_id, client_secret: clientSecret, name: row.name, scope: row.scope };
  }

  /**
   * The scope a token of `clientId` minted at `tokenVersion` may use now, or undefined when
   * the client is unknown, revoked, or rotated its secret since. Cached per process.
   */
  async tokenScope(clientId: string, tokenVersion: number): Promise<ClientScope | undefined> {
    await this.deps.changes.sync();
    let state = this.states.get(clientId);
    if (state === undefined) {
      const generation = this.states.generation;
      const row = await this.deps.db
        .selectFrom('api_clients')
        .select(['revoked_at', 'scope', 'token_version'])
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      state = row
        ? { revoked: row.revoked_at !== null, scope: row.scope, tokenVersion: Number(row.token_version) }
        : null;
      this.states.set(clientId, state, generation);
    }
    if (!state || state.revoked || state.tokenVersion !== tokenVersion) return undefined;
    return state.scope;
  }
}

async function endDashboardSessions(trx: Transaction<Database>, apiClientId: string): Promise<void> {
  await trx.deleteFrom('dashboard_sessions').where('api_client_id', '=', apiClientId).execute();
}
