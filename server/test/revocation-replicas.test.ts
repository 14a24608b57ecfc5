import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailableFor, WITHOUT_POSTGRES } from './support/database.js';
import { type Stack, startStack } from './support/stack.js';

/** Polls `probe` until it holds; resolves with the milliseconds it took (or fails after 5 s). */
async function msUntil(probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 5_000) {
    if (await probe()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the revocation never reached the other replica');
}

/**
 * Two replicas (two apps, each with its own services and caches) on one Postgres schema: a
 * revocation made through one is honoured by the other within a second, although the other
 * had just verified (and cached) the same credentials.
 */
// Needs Postgres whatever SWITCHBOARD_TEST_ENGINE says; skipped, with a warning, when none answers.
const withPostgres = describe.skipIf(!postgresAvailableFor('revocation-replicas.test.ts'));

withPostgres(`revocations reach every replica within a second (postgres)${WITHOUT_POSTGRES}`, () => {
  let first: Stack;
  let second: Stack;
  beforeAll(async () => {
    first = await startStack({ engine: 'postgres' });
    second = await startStack({ engine: 'postgres', database: first.db });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  async function tokenFor(client: { client_id: string; client_secret: string }): Promise<string> {
    const response = await first.fetch(`${first.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', ...client }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  }

  const statusAt = async (stack: Stack, token: string) =>
    (await stack.fetch(`${stack.url}/api/v1/connections`, { headers: { authorization: `Bearer ${token}` } })).status;

  it('a client revoked on one replica has its token refused by the other within a second', async () => {
    const created = await first.api<{ client: { id: string; client_id: string; client_secret: string } }>(
      'POST',
      '/api/v1/clients',
      { name: 'replicated' },
    );
    const token = await tokenFor(created.body.client);
    expect(await statusAt(second, token)).toBe(200);
    expect(await statusAt(second, token)).toBe(200);
    const revoked = await first.api('POST', `/api/v1/clients/${created.body.client.id}:revoke`);
    expect(revoked.status).toBe(200);
    const ms = await msUntil(async () => (await statusAt(second, token)) === 401);
    expect(ms).toBeLessThan(1_000);
  });

  it('a secret rotated on one replica ends the old tokens on the other within a second', async () => {
    const created = await first.api<{ client: { id: string; client_id: string; client_secret: string } }>(
      'POST',
      '/api/v1/clients',
      { name: 'rotated' },
    );
    const token = await tokenFor(created.body.client);
    expect(await statusAt(second, token)).toBe(200);
    await first.api('POST', `/api/v1/clients/${created.body.client.id}:rotate_secret`);
    const ms = await msUntil(async () => (await statusAt(second, token)) === 401);
    expect(ms).toBeLessThan(1_000);
  });
});
