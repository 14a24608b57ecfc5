import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { hashSecret, newId, newSecret, safeEqual } from '../crypto/random.js';
import type { Database } from '../db/schema.js';

export interface IssuedClient {
  id: string;
  client_id: string;
  client_secret: string;
  name: string;
}

/** Creates management API credentials. The secret is returned once and stored only hashed. */
export async function createApiClient(db: Kysely<Database>, clock: Clock, name: string): Promise<IssuedClient> {
  const id = newId('cli');
  const clientId = `sbc_${newSecret(12)}`;
  const clientSecret = `sbs_${newSecret(32)}`;
  await db
    .insertInto('api_clients')
    .values({
      id,
      client_id: clientId,
      secret_hash: hashSecret(clientSecret),
      name,
      created_at: new Date(clock.now()).toISOString(),
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  return { id, client_id: clientId, client_secret: clientSecret, name };
}

/** The client's id when the pair is valid and not revoked, else undefined. */
export async function verifyApiClient(
  db: Kysely<Database>,
  clientId: string,
  clientSecret: string,
): Promise<{ id: string; name: string } | undefined> {
  const row = await db
    .selectFrom('api_clients')
    .select(['id', 'name', 'secret_hash', 'revoked_at'])
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  // Hash anyway when the client is unknown, so timing does not reveal which ids exist.
  const presented = hashSecret(clientSecret);
  if (!row || row.revoked_at) {
    safeEqual(presented, presented);
    return undefined;
  }
  return safeEqual(presented, row.secret_hash) ? { id: row.id, name: row.name } : undefined;
}

export async function countApiClients(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('api_clients')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
