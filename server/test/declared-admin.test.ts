import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeclaredAdminState, ensureDeclaredAdmin } from '../src/auth/api-clients.js';
import { systemClock } from '../src/clock.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { startServer } from '../src/main.js';
import { createTestDatabase, TEST_ENGINE, TEST_POSTGRES_URL, type TestDatabase } from './support/database.js';
import { TEST_ENCRYPTION_KEY } from './support/index.js';

const CLIENT_ID = 'ops-admin';
const SECRET = 'declared-secret-0123456789abcdefghij';
const OTHER_SECRET = 'another-secret-0123456789abcdefghijkl';

describe('the declared admin client (SWITCHBOARD_ADMIN_CLIENT_ID and _SECRET)', () => {
  it('is configured by both variables or neither, and a refusal never shows the secret', () => {
    expect(loadConfig({}).declaredAdmin).toBeUndefined();
    expect(
      loadConfig({ SWITCHBOARD_ADMIN_CLIENT_ID: CLIENT_ID, SWITCHBOARD_ADMIN_CLIENT_SECRET: SECRET }).declaredAdmin,
    ).toEqual({ clientId: CLIENT_ID, clientSecret: SECRET });
    const refusals: [Record<string, string>, string][] = [
      [{ SWITCHBOARD_ADMIN_CLIENT_ID: CLIENT_ID }, 'give both'],
      [{ SWITCHBOARD_ADMIN_CLIENT_SECRET: SECRET }, 'give both'],
      [{ SWITCHBOARD_ADMIN_CLIENT_ID: CLIENT_ID, SWITCHBOARD_ADMIN_CLIENT_SECRET: 'short-secret' }, 'at least 32'],
      [{ SWITCHBOARD_ADMIN_CLIENT_ID: 'no spaces here', SWITCHBOARD_ADMIN_CLIENT_SECRET: SECRET }, 'letters, digits'],
    ];
    for (const [env, message] of refusals) {
      let refused: unknown;
      try {
        loadConfig(env);
      } catch (error) {
        refused = error;
      }
      expect(refused, JSON.stringify(Object.keys(env))).toBeInstanceOf(ConfigError);
      const text = (refused as ConfigError).message;
      expect(text).toContain(message);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('short-secret');
    }
  });

  describe(`ensureDeclaredAdmin (${TEST_ENGINE})`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(() => db?.close());

    const row = () =>
      db.db.selectFrom('api_clients').selectAll().where('client_id', '=', CLIENT_ID).executeTakeFirstOrThrow();

    it('creates the client once, however many replicas start at the same moment, storing only a hash', async () => {
      const states = await Promise.all(
        Array.from({ length: 5 }, () =>
          ensureDeclaredAdmin(db.db, systemClock, { clientId: CLIENT_ID, clientSecret: SECRET }),
        ),
      );
      expect(states.filter((state) => state === 'created')).toHaveLength(1);
      expect(states.filter((state) => state === 'present')).toHaveLength(4);
      const rows = await db.db.selectFrom('api_clients').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ client_id: CLIENT_ID, scope: 'admin', name: 'admin', revoked_at: null });
      expect(JSON.stringify(rows)).not.toContain(SECRET);
    });

    it('never changes an existing client: another secret is reported, not stored', async () => {
      const before = await row();
      expect(await ensureDeclaredAdmin(db.db, systemClock, { clientId: CLIENT_ID, clientSecret: OTHER_SECRET })).toBe(
        'secret_differs',
      );
      expect(await row()).toEqual(before);
    });

    it('reports a revoked client and a read client as such, and leaves them so', async () => {
      const revokedAt = new Date().toISOString();
      await db.db
        .updateTable('api_clients')
        .set({ revoked_at: revokedAt })
        .where('client_id', '=', CLIENT_ID)
        .execute();
      expect(await ensureDeclaredAdmin(db.db, systemClock, { clientId: CLIENT_ID, clientSecret: SECRET })).toBe(
        'revoked',
      );
      expect((await row()).revoked_at).toBe(revokedAt);
      await db.db
        .updateTable('api_clients')
        .set({ revoked_at: null, scope: 'read' })
        .where('client_id', '=', CLIENT_ID)
        .execute();
      expect(await ensureDeclaredAdmin(db.db, systemClock, { clientId: CLIENT_ID, clientSecret: SECRET })).toBe(
        'not_admin',
      );
      expect((await row()).scope).toBe('read');
    });
  });

  describe(`a production start (${TEST_ENGINE})`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(() => db?.close());

    /** Starts production mode on the test database with `secret` declared; returns what it reported. */
    async function start(secret: string) {
      const states: DeclaredAdminState[] = [];
      let noAdminHints = 0;
      const logs: string[] = [];
      const destination = new PassThrough();
      destination.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
      const databaseUrl = db.reopen.postgresSchema
        ? `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${db.reopen.postgresSchema}`)}`
        : undefined;
      const running = await startServer(
        {
          PORT: '0',
          SWITCHBOARD_PUBLIC_URL: 'https://switchboard.example.com',
          SWITCHBOARD_DATA_DIR: db.dataDir,
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
          SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
          SWITCHBOARD_ADMIN_CLIENT_ID: CLIENT_ID,
          SWITCHBOARD_ADMIN_CLIENT_SECRET: secret,
        },
        {
          logDestination: destination,
          onDeclaredAdmin: (clientId, state) => {
            expect(clientId).toBe(CLIENT_ID);
            states.push(state);
          },
          onNoAdminClient: () => noAdminHints++,
        },
      );
      return { running, states, noAdminHints: () => noAdminHints, logs: () => logs.join('') };
    }

    /** The management token endpoint's answer to the declared pair. */
    async function token(url: string, secret: string): Promise<number> {
      const response = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: secret }),
      });
      await response.arrayBuffer();
      return response.status;
    }

    it('creates the declared admin on the first start, whose pair then gets tokens, and logs no secret', async () => {
      const first = await start(SECRET);
      try {
        expect(first.running.adminClient).toBeUndefined();
        expect(first.states).toEqual(['created']);
        expect(first.noAdminHints()).toBe(0);
        expect(await token(first.running.url, SECRET)).toBe(200);
        expect(await token(first.running.url, OTHER_SECRET)).toBe(401);
        expect(first.logs()).not.toContain(SECRET);
      } finally {
        await first.running.stop();
      }
    });

    it('keeps the stored secret when the deployment declares another, and says so at each start', async () => {
      const again = await start(OTHER_SECRET);
      try {
        expect(again.states).toEqual(['secret_differs']);
        expect(again.noAdminHints()).toBe(0);
        expect(await token(again.running.url, SECRET)).toBe(200);
        expect(await token(again.running.url, OTHER_SECRET)).toBe(401);
        expect(again.logs()).not.toContain(OTHER_SECRET);
      } finally {
        await again.running.stop();
      }
    });

    it('does not bring a revoked declared admin back, and then says how to get an admin', async () => {
      await db.db
        .updateTable('api_clients')
        .set({ revoked_at: new Date().toISOString() })
        .where('client_id', '=', CLIENT_ID)
        .execute();
      const afterRevocation = await start(SECRET);
      try {
        expect(afterRevocation.states).toEqual(['revoked']);
        expect(afterRevocation.noAdminHints()).toBe(1);
        expect(await token(afterRevocation.running.url, SECRET)).toBe(401);
      } finally {
        await afterRevocation.running.stop();
      }
    });
  });
});
