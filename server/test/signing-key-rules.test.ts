import {
  type CryptoKey,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SigningKeys } from '../src/auth/signing-keys.js';
import { createEncryptor, type Encryptor } from '../src/crypto/envelope.js';
import { newId } from '../src/crypto/random.js';
import { type ManualClock, manualClock } from './support/clock.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { TEST_ENCRYPTION_KEY } from './support/stack.js';

/**
 * The keys that sign management and MCP session tokens, on a real database with the real
 * envelope encryption, and the memory of verified tokens checked against what jose's own
 * jwtVerify decides. SigningKeys itself has no engine-specific path (init hands the engine to
 * insertFirstRow, whose Postgres lock signing-keys.test.ts covers on both engines), so these
 * run on the suite's engine.
 */

const ISSUER = 'https://switchboard.test';
const MANAGEMENT = { audience: `${ISSUER}/api/v1`, issuer: ISSUER };
/** Whole seconds, so that exp and nbf fall exactly on clock readings. */
const START = Date.UTC(2026, 10, 24, 9, 0, 0);
const START_S = START / 1000;
const TTL_S = 3600;
/** The first millisecond at which jose refuses a token of sign() as expired: exp + 5 s. */
const EXPIRED_AT = (START_S + TTL_S + 5) * 1000;
/** The first millisecond at which jose takes a token of sign(): nbf (iat - 5 s) - 5 s. */
const VALID_FROM = (START_S - 10) * 1000;
const KID = /^key_[a-z2-7]{24}$/;
const JTI = /^exec_[a-z2-7]{24}$/;
const UNKNOWN_KEY = { code: undefined, message: 'unknown signing key' };
const EXPIRED = { code: 'ERR_JWT_EXPIRED', message: '"exp" claim timestamp check failed' };
const NOT_YET_VALID = { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', message: '"nbf" claim timestamp check failed' };
const OTHER_AUDIENCE = { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', message: 'unexpected "aud" claim value' };
const OTHER_ISSUER = { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', message: 'unexpected "iss" claim value' };
const BAD_SIGNATURE = { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', message: 'signature verification failed' };

type Refusal = { code: string | undefined; message: string };

/** 'accepted', or the code and message verify() refused `token` with. */
function verdict(keys: SigningKeys, token: string, options = MANAGEMENT): Promise<'accepted' | Refusal> {
  return keys.verify(token, options).then(
    () => 'accepted' as const,
    (error: Error & { code?: string }) => ({ code: error.code, message: error.message }),
  );
}

/** The code and message `pending` rejects with (fails when it resolves). */
async function refusal(pending: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  const error = await pending.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(Error);
  return { code: (error as { code?: string }).code, message: (error as Error).message };
}

/** Moves a manual clock to an absolute time, forward or back. */
function setClock(clock: ManualClock, ms: number): void {
  clock.advance(ms - clock.now());
}

/** What jose's jwtVerify alone decides for `token` against `keys`' published keys at the clock's time. */
function joseVerdict(keys: SigningKeys, token: string, clock: ManualClock, options = MANAGEMENT) {
  return jwtVerify(token, createLocalJWKSet(keys.jwks()), {
    algorithms: ['ES256'],
    ...options,
    currentDate: new Date(clock.now()),
    clockTolerance: 5,
  }).then(
    () => 'accepted',
    () => 'refused',
  );
}

describe('signing keys', () => {
  let database: TestDatabase;
  let encryptor: Encryptor;

  beforeEach(async () => {
    // Each test its own database: several add, rewrap or delete keys.
    database = await createTestDatabase();
    encryptor = createEncryptor(TEST_ENCRYPTION_KEY);
  });
  afterEach(() => database?.close());

  /** A SigningKeys on the test database as a replica starting up would have it: init() done. */
  async function started(clock: ManualClock, sealing: Encryptor = encryptor): Promise<SigningKeys> {
    const keys = new SigningKeys(database.db, sealing, clock);
    await keys.init(database.engine);
    return keys;
  }

  function managementToken(keys: SigningKeys, sub = 'client_1'): Promise<string> {
    return keys.sign({ sub, scope: 'api' }, { ...MANAGEMENT, expiresInSeconds: TTL_S });
  }

  async function rows() {
    return database.db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'asc').execute();
  }

  /** The private key of a stored row, opened as a replica opens it. */
  async function storedPrivateKey(kid: string): Promise<CryptoKey> {
    const row = await database.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('kid', '=', kid)
      .executeTakeFirstOrThrow();
    const jwk = JSON.parse(encryptor.decrypt(row.private_jwk_enc, row.key_id, `signing_keys:${kid}`)) as JWK;
    return (await importJWK(jwk, 'ES256')) as CryptoKey;
  }

  /**
   * A token signed with the stored key `kid` but with claims sign() never writes (no nbf, no
   * exp, an nbf of choice): what a verifier must still judge as jose does.
   */
  async function handSigned(kid: string, claims: JWTPayload): Promise<string> {
    return new SignJWT({ iss: ISSUER, aud: MANAGEMENT.audience, sub: 'client_1', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .sign(await storedPrivateKey(kid));
  }

  /**
   * A key rotation as an operator makes one: a new row, sealed as init seals the first, created
   * at the clock's time. SigningKeys has no rotate of its own; replicas sign with the newest row.
   */
  async function addKey(clock: ManualClock, sealing: Encryptor = encryptor): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = newId('key');
    const sealed = sealing.encrypt(JSON.stringify(await exportJWK(privateKey)), `signing_keys:${kid}`);
    await database.db
      .insertInto('signing_keys')
      .values({
        kid,
        algorithm: 'ES256',
        private_jwk_enc: sealed.ciphertext,
        key_id: sealed.keyId,
        public_jwk: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }),
        created_at: new Date(clock.now()).toISOString(),
      })
      .execute();
    return kid;
  }

  describe('the first key', () => {
    it('creates one ES256 key on an empty database, its private half sealed under signing_keys:<kid> and never in plaintext', async () => {
      // 999 ms into a second: created_at keeps the milliseconds.
      const clock = manualClock(START + 999);
      const keys = await started(clock);

      const stored = await rows();
      expect(stored).toHaveLength(1);
      const [row] = stored;
      if (!row) throw new Error('no row');
      expect(row.kid).toMatch(KID);
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      expect(publicJwk).toEqual({
        kty: 'EC',
        crv: 'P-256',
        x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        y: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        kid: row.kid,
        alg: 'ES256',
        use: 'sig',
      });
      expect(row).toEqual({
        kid: row.kid,
        algorithm: 'ES256',
        private_jwk_enc: expect.stringMatching(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/),
        key_id: 'test1',
        public_jwk: row.public_jwk,
        created_at: '2026-11-24T09:00:00.999Z',
      });

      // The sealed value opens only under its own row's context, to the private half of the published key.
      const privateJwk = JSON.parse(encryptor.decrypt(row.private_jwk_enc, 'test1', `signing_keys:${row.kid}`)) as JWK;
      expect(privateJwk).toEqual({
        kty: 'EC',
        crv: 'P-256',
        x: publicJwk.x,
        y: publicJwk.y,
        d: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      expect(() => encryptor.decrypt(row.private_jwk_enc, 'test1', 'signing_keys:key_other')).toThrow(
        expect.objectContaining({ code: 'decrypt_failed' }),
      );
      // Nothing of the private key is readable in the row, in any column.
      const wholeRow = JSON.stringify(row);
      expect(wholeRow).not.toContain(privateJwk.d);
      expect(wholeRow).not.toContain(Buffer.from(privateJwk.d ?? '', 'base64url').toString('base64'));
      expect(wholeRow).not.toContain('"d"');
      expect(row.private_jwk_enc).not.toContain(publicJwk.x);

      // What is published is the stored public key, and it verifies what this instance signs.
      expect(keys.jwks()).toEqual({ keys: [publicJwk] });
      const token = await managementToken(keys);
      expect(decodeProtectedHeader(token).kid).toBe(row.kid);
      expect(await joseVerdict(keys, token, clock)).toBe('accepted');
      // The sealed private key is the one that signs: a token made with it is taken.
      expect(await keys.verify(await handSigned(row.kid, { exp: START_S + 60 }), MANAGEMENT)).toMatchObject({
        sub: 'client_1',
      });
    });

    it('loads the stored key on a database that has one, and creates no second', async () => {
      const clock = manualClock(START);
      const first = await started(clock);
      clock.advance(60_000);
      const second = await started(clock);

      expect((await rows()).map((row) => row.kid)).toEqual(first.jwks().keys.map((key) => key.kid));
      expect(second.jwks()).toEqual(first.jwks());
      // The second signs with the same key, so the first takes its tokens at once.
      const token = await managementToken(second);
      expect(decodeProtectedHeader(token).kid).toBe(first.jwks().keys[0]?.kid);
      expect((await first.verify(token, MANAGEMENT)).sub).toBe('client_1');
    });

    it('refuses to sign before init with "signing keys are not initialised"', async () => {
      const keys = new SigningKeys(database.db, encryptor, manualClock(START));
      expect(await refusal(managementToken(keys))).toEqual({
        code: undefined,
        message: 'signing keys are not initialised',
      });
      expect(keys.jwks()).toEqual({ keys: [] });
    });

    it('refuses to start on a key it cannot open, with the encryption error', async () => {
      const clock = manualClock(START);
      await started(clock);
      const otherKey = createEncryptor(`test1:${Buffer.alloc(32, 9).toString('base64')}`);
      expect(await refusal(started(clock, otherKey))).toEqual({
        code: 'decrypt_failed',
        message: 'a stored secret could not be decrypted (wrong key or tampered row)',
      });
    });
  });

  describe('sign', () => {
    it('stamps the current kid, ES256 and typ JWT, iat rounded down, nbf 5 s before it, exp iat + ttl and an exec_ jti', async () => {
      const clock = manualClock(START + 999);
      const keys = await started(clock);
      const kid = keys.jwks().keys[0]?.kid;
      const token = await keys.sign(
        { sub: 'client_1', scope: 'api' },
        { audience: 'https://switchboard.test/mcp/c/cfg_1', issuer: ISSUER, expiresInSeconds: 90 },
      );
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid, typ: 'JWT' });
      expect(decodeJwt(token)).toEqual({
        sub: 'client_1',
        scope: 'api',
        iss: ISSUER,
        aud: 'https://switchboard.test/mcp/c/cfg_1',
        iat: START_S,
        nbf: START_S - 5,
        exp: START_S + 90,
        jti: expect.stringMatching(JTI),
      });
      // Each token its own jti.
      expect(decodeJwt(await managementToken(keys)).jti).not.toBe(decodeJwt(token).jti);
    });

    it('takes iat from the caller’s own clock reading when given, not from the clock', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const token = await keys.sign(
        { sub: 'client_1' },
        { ...MANAGEMENT, expiresInSeconds: 60, issuedAtMs: START + 120_999 },
      );
      expect(decodeJwt(token)).toMatchObject({ iat: START_S + 120, nbf: START_S + 115, exp: START_S + 180 });
    });
  });

  describe('verify, for a token it has not seen', () => {
    it('accepts from nbf - 5 s until exp + 5 s, to the millisecond, and refuses outside with jose’s reason', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const token = await managementToken(keys);
      // A fresh replica for each reading, so that no answer comes from memory.
      const cases: [number, Refusal | 'accepted'][] = [
        [VALID_FROM - 1, NOT_YET_VALID],
        [VALID_FROM, 'accepted'],
        [EXPIRED_AT - 1, 'accepted'],
        [EXPIRED_AT, EXPIRED],
      ];
      for (const [at, expected] of cases) {
        setClock(clock, at);
        const fresh = await started(clock);
        expect({ at, verdict: await verdict(fresh, token) }).toEqual({ at, verdict: expected });
        expect({ at, jose: await joseVerdict(fresh, token, clock) }).toEqual({
          at,
          jose: expected === 'accepted' ? 'accepted' : 'refused',
        });
      }
    });

    it('refuses another audience or issuer, a tampered token and a token of a key it does not hold', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const token = await managementToken(keys);
      const [header = '', payload = '', signature = ''] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as JWTPayload;
      const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url');
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;

      // A key of another deployment, under a kid this one never had and under this one's kid.
      const foreign = await generateKeyPair('ES256');
      const kid = keys.jwks().keys[0]?.kid ?? '';
      const foreignToken = (signingKid: string) =>
        new SignJWT({ sub: 'client_1' })
          .setProtectedHeader({ alg: 'ES256', kid: signingKid })
          .setIssuer(ISSUER)
          .setAudience(MANAGEMENT.audience)
          .setExpirationTime(START_S + 60)
          .sign(foreign.privateKey);

      expect(await refusal(keys.verify(token, { audience: `${ISSUER}/mcp/c/cfg_1`, issuer: ISSUER }))).toEqual(
        OTHER_AUDIENCE,
      );
      expect(await refusal(keys.verify(token, { ...MANAGEMENT, issuer: 'https://other.test' }))).toEqual(OTHER_ISSUER);
      expect(await refusal(keys.verify(`${header}.${forged}.${signature}`, MANAGEMENT))).toEqual(BAD_SIGNATURE);
      expect(await refusal(keys.verify(`${header}.${payload}.${flipped}`, MANAGEMENT))).toEqual(BAD_SIGNATURE);
      expect(await refusal(keys.verify(await foreignToken(kid), MANAGEMENT))).toEqual(BAD_SIGNATURE);
      expect(await refusal(keys.verify(await foreignToken('key_elsewhere'), MANAGEMENT))).toEqual(UNKNOWN_KEY);
      // No kid at all names no key, even once the reload window has passed.
      clock.advance(6_000);
      const noKid = await new SignJWT({ sub: 'client_1' })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(ISSUER)
        .setAudience(MANAGEMENT.audience)
        .setExpirationTime(START_S + 60)
        .sign(await storedPrivateKey(kid));
      expect(await refusal(keys.verify(noKid, MANAGEMENT))).toEqual(UNKNOWN_KEY);
      // Only ES256: an unsigned token naming the right kid is refused before any key is used.
      const unsigned = new UnsecuredJWT({ sub: 'client_1', iss: ISSUER, aud: MANAGEMENT.audience }).encode();
      const unsignedWithKid = `${Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url')}.${unsigned.split('.')[1]}.`;
      expect(await refusal(keys.verify(unsignedWithKid, MANAGEMENT))).toEqual({
        code: 'ERR_JOSE_ALG_NOT_ALLOWED',
        message: '"alg" (Algorithm) Header Parameter value not allowed',
      });
      // After all of that, the genuine token is still taken.
      expect((await keys.verify(token, MANAGEMENT)).scope).toBe('api');
    });
  });

  describe('the memory of verified tokens', () => {
    it('answers a repeated token from memory (the same frozen object) only while it is valid, exp + 5 s exclusive', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const token = await managementToken(keys);
      const first = await keys.verify(token, MANAGEMENT);
      expect(Object.isFrozen(first)).toBe(true);

      setClock(clock, EXPIRED_AT - 1);
      // The very object of the first answer: no second ES256 check.
      expect(await keys.verify(token, MANAGEMENT)).toBe(first);
      setClock(clock, EXPIRED_AT);
      expect(await refusal(keys.verify(token, MANAGEMENT))).toEqual(EXPIRED);
      expect(await joseVerdict(keys, token, clock)).toBe('refused');
      // Nor after a clock stepping back past the memory's end and forward again.
      setClock(clock, EXPIRED_AT + 3_600_000);
      expect(await refusal(keys.verify(token, MANAGEMENT))).toEqual(EXPIRED);
    });

    it('answers from memory back to nbf - 5 s and refuses a millisecond earlier, as jose does', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const token = await managementToken(keys);
      const first = await keys.verify(token, MANAGEMENT);

      setClock(clock, VALID_FROM);
      expect(await keys.verify(token, MANAGEMENT)).toBe(first);
      setClock(clock, VALID_FROM - 1);
      expect(await refusal(keys.verify(token, MANAGEMENT))).toEqual(NOT_YET_VALID);
      expect(await joseVerdict(keys, token, clock)).toBe('refused');
      setClock(clock, START);
      expect(await keys.verify(token, MANAGEMENT)).toBe(first);
    });

    it('remembers a token without nbf at any time before its exp, as jose takes it then', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const kid = keys.jwks().keys[0]?.kid ?? '';
      const token = await handSigned(kid, { exp: START_S + 60 });
      const first = await keys.verify(token, MANAGEMENT);
      expect(first).toEqual({ iss: ISSUER, aud: MANAGEMENT.audience, sub: 'client_1', exp: START_S + 60 });

      setClock(clock, START - 86_400_000);
      expect(await joseVerdict(keys, token, clock)).toBe('accepted');
      expect(await keys.verify(token, MANAGEMENT)).toBe(first);
      setClock(clock, (START_S + 65) * 1000 - 1);
      expect(await keys.verify(token, MANAGEMENT)).toBe(first);
      setClock(clock, (START_S + 65) * 1000);
      expect(await refusal(keys.verify(token, MANAGEMENT))).toEqual(EXPIRED);
    });

    it('answers a token with a fractional nbf from memory only from the second jose takes it', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      // jose reads nbf against whole seconds: nbf + 0.5 counts from the next second on.
      const token = await handSigned(keys.jwks().keys[0]?.kid ?? '', { nbf: START_S + 0.5, exp: START_S + 60 });
      setClock(clock, (START_S + 1) * 1000);
      const first = await keys.verify(token, MANAGEMENT);
      setClock(clock, (START_S - 4) * 1000 - 1);
      expect(await joseVerdict(keys, token, clock)).toBe('refused');
      expect(await refusal(keys.verify(token, MANAGEMENT))).toEqual(NOT_YET_VALID);
      setClock(clock, (START_S - 4) * 1000);
      expect(await joseVerdict(keys, token, clock)).toBe('accepted');
      expect(await keys.verify(token, MANAGEMENT)).toBe(first);
    });

    it('never remembers a token without exp: each check is a new one', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const token = await handSigned(keys.jwks().keys[0]?.kid ?? '', { nbf: START_S });
      const first = await keys.verify(token, MANAGEMENT);
      const again = await keys.verify(token, MANAGEMENT);
      expect(again).toEqual(first);
      expect(again).not.toBe(first);
    });

    it('keeps many tokens at once, each under its own audience and issuer', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const management = await managementToken(keys);
      const mcp = { audience: `${ISSUER}/mcp/c/cfg_1`, issuer: ISSUER };
      const session = await keys.sign({ sub: 'user_1' }, { ...mcp, expiresInSeconds: 60 });
      const managementAnswer = await keys.verify(management, MANAGEMENT);
      const sessionAnswer = await keys.verify(session, mcp);

      expect(await keys.verify(management, MANAGEMENT)).toBe(managementAnswer);
      expect(await keys.verify(session, mcp)).toBe(sessionAnswer);
      // Each shown where it does not belong is refused, not answered from memory.
      expect(await refusal(keys.verify(session, MANAGEMENT))).toEqual(OTHER_AUDIENCE);
      expect(await refusal(keys.verify(management, mcp))).toEqual(OTHER_AUDIENCE);
      expect(await refusal(keys.verify(management, { ...MANAGEMENT, issuer: `${ISSUER}/` }))).toEqual(OTHER_ISSUER);
      expect(await keys.verify(management, MANAGEMENT)).toBe(managementAnswer);
      // Another replica on the same database has its own memory: it checks the token itself.
      const replica = await started(clock);
      const replicaAnswer = await replica.verify(management, MANAGEMENT);
      expect(replicaAnswer).toEqual(managementAnswer);
      expect(replicaAnswer).not.toBe(managementAnswer);
    });

    it('refuses a token with a prefix of a remembered one, or the remembered one with more after it', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const token = await managementToken(keys);
      await keys.verify(token, MANAGEMENT);
      const [header, payload] = token.split('.');
      expect(await refusal(keys.verify(`${header}.${payload}.`, MANAGEMENT))).toEqual(BAD_SIGNATURE);
      expect(await refusal(keys.verify(token.slice(0, -4), MANAGEMENT))).toEqual(BAD_SIGNATURE);
      expect(await refusal(keys.verify(`${token}.x`, MANAGEMENT))).toEqual({
        code: 'ERR_JWS_INVALID',
        message: 'Invalid Compact JWS',
      });
    });
  });

  describe('keys added by other replicas', () => {
    it('signs with the newest key once reloaded, publishes all in age order, and keeps taking the older key’s tokens', async () => {
      const clock = manualClock(START);
      const replica = await started(clock);
      const [oldKid = ''] = replica.jwks().keys.map((key) => key.kid ?? '');
      const oldToken = await managementToken(replica);
      const oldAnswer = await replica.verify(oldToken, MANAGEMENT);

      clock.advance(1_000);
      const newKid = await addKey(clock);
      const restarted = await started(clock);
      expect(restarted.jwks().keys.map((key) => key.kid)).toEqual([oldKid, newKid]);
      expect(restarted.jwks()).toEqual({ keys: (await rows()).map((row) => JSON.parse(row.public_jwk)) });
      const newToken = await managementToken(restarted);
      expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
      expect((await restarted.verify(oldToken, MANAGEMENT)).sub).toBe('client_1');

      // Six seconds after its load, the older replica meets the new kid: it reads the table again.
      clock.advance(5_000);
      expect((await replica.verify(newToken, MANAGEMENT)).sub).toBe('client_1');
      expect(replica.jwks().keys.map((key) => key.kid)).toEqual([oldKid, newKid]);
      expect(decodeProtectedHeader(await managementToken(replica)).kid).toBe(newKid);
      // The older key stays loaded: its remembered token is still answered from memory.
      expect(await replica.verify(oldToken, MANAGEMENT)).toBe(oldAnswer);
    });

    it('reads the table again for an unknown kid only more than 5 s after its last read', async () => {
      const clock = manualClock(START);
      const replica = await started(clock);
      const [oldKid] = replica.jwks().keys.map((key) => key.kid);
      clock.advance(1_000);
      await addKey(clock);
      const other = await started(clock);
      const newToken = await managementToken(other);

      setClock(clock, START + 5_000);
      expect(await refusal(replica.verify(newToken, MANAGEMENT))).toEqual(UNKNOWN_KEY);
      expect(replica.jwks().keys.map((key) => key.kid)).toEqual([oldKid]);
      setClock(clock, START + 5_001);
      expect((await replica.verify(newToken, MANAGEMENT)).sub).toBe('client_1');

      // That read starts the next 5 s: a kid nobody has makes one read, then none for 5 s.
      clock.advance(1_000);
      const third = await addKey(clock);
      const thirdToken = await managementToken(await started(clock));
      expect(decodeProtectedHeader(thirdToken).kid).toBe(third);
      setClock(clock, START + 10_001);
      expect(await refusal(replica.verify(thirdToken, MANAGEMENT))).toEqual(UNKNOWN_KEY);
      setClock(clock, START + 10_002);
      expect((await replica.verify(thirdToken, MANAGEMENT)).sub).toBe('client_1');
    });

    it('does not read the table again for a token of a key it holds, however long since the last read', async () => {
      const clock = manualClock(START);
      const replica = await started(clock);
      const [oldKid] = replica.jwks().keys.map((key) => key.kid);
      const own = await managementToken(replica);
      clock.advance(1_000);
      await addKey(clock);

      clock.advance(60_000);
      expect((await replica.verify(own, MANAGEMENT)).sub).toBe('client_1');
      expect((await replica.verify(await managementToken(replica, 'client_2'), MANAGEMENT)).sub).toBe('client_2');
      expect(replica.jwks().keys.map((key) => key.kid)).toEqual([oldKid]);
      expect(decodeProtectedHeader(await managementToken(replica)).kid).toBe(oldKid);
    });

    it('keeps the keys it holds when a reload meets their rows rewrapped under a master key it lacks', async () => {
      const clock = manualClock(START);
      const replica = await started(clock);
      const [kid = ''] = replica.jwks().keys.map((key) => key.kid ?? '');
      const token = await managementToken(replica);

      // Another process rotated the master key (k1 to k2) and reencrypted the row; this replica
      // still runs with k1 only, as it did until its restart.
      const rotated = createEncryptor(`test2:${Buffer.alloc(32, 8).toString('base64')}`, [TEST_ENCRYPTION_KEY]);
      const [row] = await rows();
      const resealed = rotated.encrypt(
        encryptor.decrypt(row?.private_jwk_enc ?? '', 'test1', `signing_keys:${kid}`),
        `signing_keys:${kid}`,
      );
      await database.db
        .updateTable('signing_keys')
        .set({ private_jwk_enc: resealed.ciphertext, key_id: resealed.keyId })
        .where('kid', '=', kid)
        .execute();

      clock.advance(6_000);
      const stranger = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'key_elsewhere' })
        .sign((await generateKeyPair('ES256')).privateKey);
      expect(await refusal(replica.verify(stranger, MANAGEMENT))).toEqual(UNKNOWN_KEY);
      expect((await replica.verify(token, MANAGEMENT)).sub).toBe('client_1');
      expect(decodeProtectedHeader(await managementToken(replica)).kid).toBe(kid);
      // A replica started with k2 (k1 kept as old) opens the rewrapped row and takes the token.
      expect((await (await started(clock, rotated)).verify(token, MANAGEMENT)).sub).toBe('client_1');
    });

    it('forgets a remembered token once a reload finds its key deleted, while keeping the others', async () => {
      const clock = manualClock(START);
      const replica = await started(clock);
      const [oldKid = ''] = replica.jwks().keys.map((key) => key.kid ?? '');
      const oldToken = await managementToken(replica);
      await replica.verify(oldToken, MANAGEMENT);
      clock.advance(1_000);
      const newKid = await addKey(clock);
      const newToken = await managementToken(await started(clock));

      await database.db.deleteFrom('signing_keys').where('kid', '=', oldKid).execute();
      clock.advance(5_000);
      const newAnswer = await replica.verify(newToken, MANAGEMENT);
      expect(replica.jwks().keys.map((key) => key.kid)).toEqual([newKid]);
      expect(await refusal(replica.verify(oldToken, MANAGEMENT))).toEqual(UNKNOWN_KEY);
      expect(await replica.verify(newToken, MANAGEMENT)).toBe(newAnswer);
    });
  });

  describe('the bound of the memory', () => {
    it('holds 10,000 tokens, starts over at the 10,001st, and counts only tokens it may answer for', async () => {
      const clock = manualClock(START);
      const keys = await started(clock);
      const tokens: string[] = [];
      for (let i = 0; i <= 10_000; i++) tokens.push(await managementToken(keys, `client_${i}`));
      const [firstToken = '', ...rest] = tokens;
      const last = rest.pop() ?? '';

      const first = await keys.verify(firstToken, MANAGEMENT);
      for (const token of rest) await keys.verify(token, MANAGEMENT);
      // 10,000 remembered: the first is still answered from memory.
      expect(await keys.verify(firstToken, MANAGEMENT)).toBe(first);
      // A token without exp is never remembered, so it does not make the memory start over.
      await keys.verify(await handSigned(keys.jwks().keys[0]?.kid ?? '', {}), MANAGEMENT);
      expect(await keys.verify(firstToken, MANAGEMENT)).toBe(first);

      const lastAnswer = await keys.verify(last, MANAGEMENT);
      expect(await keys.verify(last, MANAGEMENT)).toBe(lastAnswer);
      const again = await keys.verify(firstToken, MANAGEMENT);
      expect(again).toEqual(first);
      expect(again).not.toBe(first);
    }, 60_000);
  });
});
