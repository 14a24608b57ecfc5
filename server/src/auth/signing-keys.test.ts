import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../test/support/clock.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../../test/support/database.js';
import type { Clock } from '../clock.js';
import { createEncryptor } from '../crypto/envelope.js';
import { SigningKeys } from './signing-keys.js';

const ISSUER = 'https://switchboard.test';
const MANAGEMENT = { audience: `${ISSUER}/api/v1`, issuer: ISSUER };
/** Whole seconds, so exp and nbf fall exactly on clock readings. */
const START = Date.UTC(2026, 10, 24, 9, 0, 0);
const TTL_S = 3600;
const EXP_MS = (START / 1000 + TTL_S) * 1000;
/** sign() stamps nbf five seconds before now; verification allows five more. */
const EARLIEST_MS = START - 10_000;

const encryptor = createEncryptor(`signing-test:${Buffer.alloc(32, 3).toString('base64')}`);

/** Moves a manual clock to an absolute time, forward or back. */
function setClock(clock: ReturnType<typeof manualClock>, ms: number) {
  clock.advance(ms - clock.now());
}

function verdict(keys: SigningKeys, token: string, options = MANAGEMENT): Promise<'accepted' | 'rejected'> {
  return keys.verify(token, options).then(
    () => 'accepted',
    () => 'rejected',
  );
}

describe.each(ENGINES)('signing keys on %s', (engine) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db?.close());

  /** A SigningKeys on `database` as a replica starting up would have it: init() done. */
  async function loaded(clock: Clock, database: TestDatabase = db): Promise<SigningKeys> {
    const keys = new SigningKeys(database.db, encryptor, clock);
    await keys.init(database.engine);
    return keys;
  }

  async function managementToken(keys: SigningKeys, sub = 'client_1'): Promise<string> {
    return keys.sign({ sub, scope: 'api' }, { ...MANAGEMENT, expiresInSeconds: TTL_S });
  }

  it('answers a repeated token from memory with the same frozen payload, sub and aud included', async () => {
    const clock = manualClock(START);
    const keys = await loaded(clock);
    const token = await managementToken(keys);

    const first = await keys.verify(token, MANAGEMENT);
    const again = await keys.verify(token, MANAGEMENT);
    expect(again).toMatchObject({
      sub: 'client_1',
      aud: MANAGEMENT.audience,
      iss: ISSUER,
      scope: 'api',
      exp: EXP_MS / 1000,
      nbf: START / 1000 - 5,
    });
    // The very object of the first answer: the repeat skipped the ES256 check. Frozen, so a
    // caller that changes it cannot change what the next caller reads.
    expect(again).toBe(first);
    expect(Object.isFrozen(again)).toBe(true);
    // A replica that never saw the token reads the same claims from it.
    expect(await (await loaded(clock)).verify(token, MANAGEMENT)).toEqual(again);
    // Another token of the same key is its own entry, with its own claims.
    const other = await keys.verify(await managementToken(keys, 'client_2'), MANAGEMENT);
    expect(other.sub).toBe('client_2');
    expect((await keys.verify(token, MANAGEMENT)).sub).toBe('client_1');
  });

  it('accepts a remembered token until exp + 5 s and not after, as a verifier that never saw it does', async () => {
    const clock = manualClock(START);
    const keys = await loaded(clock);
    const token = await managementToken(keys);
    expect(await verdict(keys, token)).toBe('accepted');

    const checks: [number, 'accepted' | 'rejected'][] = [
      [EXP_MS - 1_000, 'accepted'],
      [EXP_MS + 4_000, 'accepted'],
      [EXP_MS + 4_999, 'accepted'],
      [EXP_MS + 5_000, 'rejected'],
      [EXP_MS + 3_600_000, 'rejected'],
    ];
    for (const [at, expected] of checks) {
      setClock(clock, at);
      const remembered = await verdict(keys, token);
      const fresh = await verdict(await loaded(clock), token);
      expect({ at: at - EXP_MS, remembered, fresh }).toEqual({
        at: at - EXP_MS,
        remembered: expected,
        fresh: expected,
      });
    }
  });

  it('rejects a remembered token when the clock steps back before nbf - 5 s', async () => {
    const clock = manualClock(START);
    const keys = await loaded(clock);
    const token = await managementToken(keys);
    expect(await verdict(keys, token)).toBe('accepted');

    setClock(clock, EARLIEST_MS);
    expect(await verdict(keys, token)).toBe('accepted');
    setClock(clock, EARLIEST_MS - 1);
    expect(await verdict(keys, token)).toBe('rejected');
    expect(await verdict(await loaded(clock), token)).toBe('rejected');
  });

  it('rejects a token remembered for one audience when it is shown for another audience or issuer', async () => {
    const clock = manualClock(START);
    const keys = await loaded(clock);
    const token = await managementToken(keys);
    expect(await verdict(keys, token)).toBe('accepted');

    // A management token presented at an MCP config's URL, and one from another deployment.
    expect(await verdict(keys, token, { audience: `${ISSUER}/mcp/c/cfg_1`, issuer: ISSUER })).toBe('rejected');
    expect(await verdict(keys, token, { audience: MANAGEMENT.audience, issuer: 'https://other.test' })).toBe(
      'rejected',
    );
    // Asking wrongly does not spoil the right answer.
    expect(await verdict(keys, token)).toBe('accepted');
  });

  it('rejects a token with one character of its signature or payload changed after the genuine one was remembered', async () => {
    const clock = manualClock(START);
    const keys = await loaded(clock);
    const token = await managementToken(keys);
    expect(await verdict(keys, token)).toBe('accepted');

    const [header = '', payload = '', signature = ''] = token.split('.');
    // Not the last character: its low bits are padding, so changing it may decode to the same bytes.
    const at = 10;
    const swapped = signature[at] === 'A' ? 'B' : 'A';
    const badSignature = `${header}.${payload}.${signature.slice(0, at)}${swapped}${signature.slice(at + 1)}`;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const otherClaims = Buffer.from(JSON.stringify({ ...claims, sub: 'client_9' })).toString('base64url');
    const badPayload = `${header}.${otherClaims}.${signature}`;

    for (const tampered of [badSignature, badPayload]) {
      expect(tampered).not.toBe(token);
      expect(await verdict(keys, tampered)).toBe('rejected');
      expect(await verdict(keys, tampered)).toBe('rejected');
    }
    expect(await verdict(keys, token)).toBe('accepted');
  });

  it('replicas starting at once on an empty database create one key between them, and take each other’s tokens at once', async () => {
    // Its own database: an empty signing_keys table, as on a first start.
    const own = await createTestDatabase(engine);
    try {
      const clock = manualClock(START);
      const replicas = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const keys = new SigningKeys(own.db, encryptor, clock);
          await keys.init(own.engine);
          return keys;
        }),
      );
      const rows = await own.db.selectFrom('signing_keys').select('kid').execute();
      expect(rows).toHaveLength(1);
      for (const signer of replicas) {
        const token = await managementToken(signer);
        // No reload window: every replica already holds the key that signed it.
        for (const verifier of replicas) expect(await verdict(verifier, token)).toBe('accepted');
      }
    } finally {
      await own.close();
    }
  });

  it('rejects a remembered token once its signing key is deleted and a token of a newer key makes the replica reload', async () => {
    // Its own database: this test deletes the signing key the others use.
    const own = await createTestDatabase(engine);
    try {
      const clock = manualClock(START);
      const replica = await loaded(clock, own);
      const [oldKid] = replica.jwks().keys.map((key) => key.kid);
      const old = await managementToken(replica);
      expect(await verdict(replica, old)).toBe('accepted');

      // An operator retires the key by deleting its row; the next replica to start finds
      // none and creates a new one. A reload is the only way a loaded key goes away.
      await own.db
        .deleteFrom('signing_keys')
        .where('kid', '=', oldKid ?? '')
        .execute();
      const started = await loaded(clock, own);
      const [newKid] = started.jwks().keys.map((key) => key.kid);
      expect(newKid).toBeDefined();
      expect(newKid).not.toBe(oldKid);
      const fresh = await managementToken(started);
      // Until this replica reads the table again, it still holds the old key.
      expect(await verdict(replica, old)).toBe('accepted');

      // An unknown kid makes it reload, at most every 5 s.
      clock.advance(6_000);
      expect(await verdict(replica, fresh)).toBe('accepted');
      expect(replica.jwks().keys.map((key) => key.kid)).toEqual([newKid]);
      expect(await verdict(replica, old)).toBe('rejected');
      expect(await verdict(started, old)).toBe('rejected');
    } finally {
      await own.close();
    }
  });
});
