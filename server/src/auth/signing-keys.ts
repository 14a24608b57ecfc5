import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { ENCRYPTED_COLUMNS } from '../crypto/contexts.js';
import type { Encryptor } from '../crypto/envelope.js';
import { newId } from '../crypto/random.js';
import type { Engine } from '../db/database.js';
import { insertFirstRow } from '../db/first-row.js';
import type { Database } from '../db/schema.js';

const ALGORITHM = 'ES256';
/** Must match jose's clockTolerance below: seconds of leeway on exp and nbf. */
const CLOCK_TOLERANCE_S = 5;
/** Verified tokens remembered until they expire; beyond this the memory starts over. */
const MAX_VERIFIED_TOKENS = 10_000;

interface VerifiedToken {
  payload: JWTPayload;
  kid: string;
  audience: string;
  issuer: string;
  /** ms; the token is accepted while now < expiresAt (exp plus the tolerance). */
  expiresAt: number;
  notBefore: number;
}

interface LoadedKey {
  kid: string;
  publicKey: CryptoKey;
  publicJwk: JWK;
  privateKey?: CryptoKey;
}

/**
 * The ES256 keys that sign management access tokens and MCP session tokens. Private keys
 * live encrypted in the database so every replica signs with the same key; public keys are
 * published at /.well-known/jwks.json.
 */
export class SigningKeys {
  private keys = new Map<string, LoadedKey>();
  private current: LoadedKey | undefined;
  private lastReload = 0;
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly encryptor: Encryptor,
    private readonly clock: Clock,
  ) {}

  /**
   * Loads the keys, creating the first one when the database has none. Replicas starting at
   * once on an empty database create one between them, so all sign with the same key (each
   * with its own, the others would refuse its tokens until their next reload).
   */
  async init(engine: Engine): Promise<void> {
    await this.reload();
    if (this.current) return;
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const kid = newId('key');
    const privateJwk = await exportJWK(privateKey);
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' };
    const { ciphertext, keyId } = this.encryptor.encrypt(
      JSON.stringify(privateJwk),
      ENCRYPTED_COLUMNS.signingKey.context(kid),
    );
    await insertFirstRow(this.db, engine, 'signing_keys', {
      kid,
      algorithm: ALGORITHM,
      private_jwk_enc: ciphertext,
      key_id: keyId,
      public_jwk: JSON.stringify(publicJwk),
      created_at: new Date(this.clock.now()).toISOString(),
    });
    await this.reload();
  }

  private async reload(): Promise<void> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'asc').execute();
    const keys = new Map<string, LoadedKey>();
    let current: LoadedKey | undefined;
    for (const row of rows) {
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      const existing = this.keys.get(row.kid);
      const loaded: LoadedKey = existing ?? {
        kid: row.kid,
        publicJwk,
        publicKey: (await importJWK(publicJwk, ALGORITHM)) as CryptoKey,
        privateKey: (await importJWK(
          JSON.parse(
            this.encryptor.decrypt(row.private_jwk_enc, row.key_id, ENCRYPTED_COLUMNS.signingKey.context(row.kid)),
          ) as JWK,
          ALGORITHM,
        )) as CryptoKey,
      };
      keys.set(row.kid, loaded);
      current = loaded;
    }
    this.keys = keys;
    this.current = current;
    this.lastReload = this.clock.now();
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  /** `issuedAtMs`: the caller's own reading of the clock, so what it derives from it matches iat and exp. */
  async sign(
    payload: JWTPayload,
    options: { audience: string; issuer: string; expiresInSeconds: number; issuedAtMs?: number },
  ) {
    if (!this.current?.privateKey) throw new Error('signing keys are not initialised');
    const now = Math.floor((options.issuedAtMs ?? this.clock.now()) / 1000);
    return new SignJWT(payload)
      .setProtectedHeader({ alg: ALGORITHM, kid: this.current.kid, typ: 'JWT' })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + options.expiresInSeconds)
      .setJti(newId('exec'))
      .sign(this.current.privateKey);
  }

  /**
   * Verifies signature, issuer, audience and expiry; throws on anything wrong. A token that
   * verified before is answered from memory until it expires, as long as its signing key is
   * still loaded: an ES256 verification was a tenth of a management call's CPU, and a backend
   * sends the same token for up to an hour.
   */
  async verify(token: string, options: { audience: string; issuer: string }): Promise<JWTPayload> {
    const now = this.clock.now();
    const known = this.verified.get(token);
    if (
      known &&
      known.audience === options.audience &&
      known.issuer === options.issuer &&
      now < known.expiresAt &&
      now >= known.notBefore &&
      this.keys.has(known.kid)
    ) {
      return known.payload;
    }
    const { payload, protectedHeader } = await jwtVerify(
      token,
      async (header) => {
        let key = header.kid ? this.keys.get(header.kid) : undefined;
        // A key created by another replica after our last load: look once more, at most every 5 s.
        if (!key && header.kid && this.clock.now() - this.lastReload > 5_000) {
          await this.reload();
          key = this.keys.get(header.kid);
        }
        if (!key) throw new Error('unknown signing key');
        return key.publicKey;
      },
      {
        algorithms: [ALGORITHM],
        audience: options.audience,
        issuer: options.issuer,
        currentDate: new Date(now),
        clockTolerance: CLOCK_TOLERANCE_S,
      },
    );
    if (typeof payload.exp === 'number' && protectedHeader.kid) {
      if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.clear();
      this.verified.set(token, {
        payload: Object.freeze(payload),
        kid: protectedHeader.kid,
        audience: options.audience,
        issuer: options.issuer,
        expiresAt: (payload.exp + CLOCK_TOLERANCE_S) * 1000,
        // jose compares nbf with whole seconds of the clock: a fractional nbf counts from the
        // second after it (exp needs no rounding: from memory it only ends earlier than jose).
        notBefore: (Math.ceil(payload.nbf ?? 0) - CLOCK_TOLERANCE_S) * 1000,
      });
    }
    return payload;
  }
}
