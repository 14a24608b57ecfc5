import type { McpSessionToken } from '@switchboard/sdk';
import type { Kysely } from 'kysely';
import type { SigningKeys } from '../auth/signing-keys.js';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { ScopedCache } from '../cache/scoped-cache.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { hashSecret } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import { type ConfigDetail, configServerUrl, verifyConfigToken } from './configs.js';

export const MIN_TOKEN_SECONDS = 60;
export const MAX_TOKEN_SECONDS = 24 * 3600;
export const DEFAULT_TOKEN_SECONDS = 3600;

/** Parses a protobuf-JSON duration ("3600s", "90.5s") into whole seconds; undefined = default. */
export function parseExpiry(expiry: string | undefined): number {
  if (expiry === undefined || expiry === '') return DEFAULT_TOKEN_SECONDS;
  const match = /^(\d+)(?:\.\d+)?s$/.exec(expiry.trim());
  const seconds = match ? Number(match[1]) : Number.NaN;
  if (!(seconds >= MIN_TOKEN_SECONDS && seconds <= MAX_TOKEN_SECONDS)) {
    throw new AppError(
      'validation_failed',
      `expiry: give a duration between ${MIN_TOKEN_SECONDS}s and ${MAX_TOKEN_SECONDS}s, e.g. "3600s"`,
    );
  }
  return seconds;
}

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  config: Config;
  signingKeys: SigningKeys;
  changes: ChangeFeed;
}

/** Where (config, identifier) stands with revocations: none yet is generation 0. */
interface Revocation {
  generation: number;
  /** The revoking replica's clock at the last revocation, in ms. */
  notBefore: number | undefined;
}

/**
 * What a token of (config, identifier) is checked against: the user's ACTIVE accounts on
 * the config's connections (id → who consented), and its revocations.
 */
interface Standing extends Revocation {
  accounts: Map<string, string>;
}

/** (config, identifier) pairs whose standing is kept per process. */
const MAX_CACHED_STANDINGS = 50_000;

/** Who consented to an account, as a token may carry it: a short digest, never the address. */
function consentedBy(providerAccount: string | null): string {
  return hashSecret(`who:${providerAccount ?? ''}`).slice(0, 16);
}

export interface SessionClaims {
  identifier: string;
  configId: string;
}

/**
 * Session tokens: a JWT per (config, user) whose audience is the config's one MCP URL, as
 * the reference's newer model has it. Minting requires every mapped connection to be
 * connected already, so an agent handed a token never starts a run that cannot finish.
 */
export class SessionTokens {
  /** Emptied when a mapping, an account's existence or status, or a revocation changes. */
  private readonly standings: ScopedCache<string, Standing>;

  constructor(private readonly deps: Deps) {
    this.standings = deps.changes.cache(['mcp', 'accounts', 'clients'], MAX_CACHED_STANDINGS, {
      name: 'session_tokens',
    });
  }

  async mint(config: ConfigDetail, identifier: string, expiresInSeconds: number): Promise<McpSessionToken> {
    if (!config.mappings.length) {
      throw new AppError('failed_precondition', `MCP config ${config.name} maps no connections`);
    }
    const [accounts, revocation] = await Promise.all([
      this.deps.db
        .selectFrom('connected_accounts')
        .select(['id', 'connection_id', 'provider_account'])
        .where(
          'connection_id',
          'in',
          config.mappings.map((m) => m.connection_id),
        )
        .where('identifier', '=', identifier)
        .where('status', '=', 'ACTIVE')
        .execute(),
      // Read before signing: a revocation that commits in between is counted after this
      // reading, so it ends this token too (refused rather than wrongly kept).
      this.revocation(config.id, identifier),
    ]);
    const active = new Map(accounts.map((a) => [a.connection_id, a.id]));
    const who = new Map(accounts.map((a) => [a.id, consentedBy(a.provider_account)]));
    const missing = config.mappings.filter((m) => !active.has(m.connection_id)).map((m) => m.connection_name);
    if (missing.length) {
      throw new AppError(
        'failed_precondition',
        `${identifier} has no ACTIVE connected account for ${missing.join(', ')}; connect them first (POST /api/v1/mcp/configs/${config.id}/connected_accounts with include_auth_link)`,
        { details: { connections: missing } },
      );
    }
    const { publicUrl } = this.deps.config;
    const ids = config.mappings.map((m) => active.get(m.connection_id) ?? '');
    const mintedMs = this.deps.clock.now();
    const token = await this.deps.signingKeys.sign(
      // ca_ids/ca_who: the accounts the token is for and who consented to each. `rev`: the
      // revocations of (config, user) so far, which orders the token against the next one
      // whatever the replicas' clocks say; `rev_nb`: the last one's not_before as read, which
      // an older build, counting nothing, still moves (a rolling upgrade). `mint_ms` is for
      // older builds, which order by clock (more finely than `iat`, in whole seconds).
      {
        sub: identifier,
        mcp_cfg: config.id,
        ca_ids: ids,
        ca_who: ids.map((id) => who.get(id) ?? ''),
        mint_ms: mintedMs,
        rev: revocation.generation,
        ...(revocation.notBefore === undefined ? {} : { rev_nb: revocation.notBefore }),
      },
      { audience: configServerUrl(publicUrl, config.id), issuer: publicUrl, expiresInSeconds, issuedAtMs: mintedMs },
    );
    // exp as sign() stamps it from the same reading, in whole seconds (a second read could fall in the next second).
    const expiresAt = new Date((Math.floor(mintedMs / 1000) + expiresInSeconds) * 1000).toISOString();
    return { token, expires_at: expiresAt };
  }

  /**
   * Ends every token of `identifier` at config `configId` minted until now, whichever
   * replica minted it, on every replica within a poll of the change feed; tokens minted
   * afterwards work. One statement counts the revocation, so concurrent ones both count.
   */
  async revoke(configId: string, identifier: string): Promise<void> {
    // Kept for tokens without `rev` (minted by an older build) and for older builds' verify.
    const notBefore = new Date(this.deps.clock.now()).toISOString();
    await this.deps.changes.write(['clients'], (trx) =>
      trx
        .insertInto('mcp_session_revocations')
        .values({ config_id: configId, identifier, not_before: notBefore, generation: 1 })
        .onConflict((oc) =>
          oc.columns(['config_id', 'identifier']).doUpdateSet((eb) => ({
            not_before: notBefore,
            generation: eb('mcp_session_revocations.generation', '+', 1),
          })),
        )
        .execute(),
    );
  }

  /**
   * The claims of a token presented at config `configId`'s URL, or undefined when it is
   * invalid, expired, minted for another config (audience and mcp_cfg both checked),
   * revoked, or names an account that is gone, not ACTIVE, no longer mapped by the config,
   * or now consented by someone else (deleted and re-created accounts have new ids).
   */
  async verify(token: string, configId: string): Promise<SessionClaims | undefined> {
    const payload = await verifyConfigToken(this.deps.signingKeys, this.deps.config.publicUrl, token, configId);
    if (!payload) return undefined;
    const identifier = payload.sub;
    if (payload.mcp_cfg !== configId || typeof identifier !== 'string' || !identifier) return undefined;
    const ids = payload.ca_ids;
    // Tokens minted before ca_who existed name their accounts only; they live out their hour.
    const who = Array.isArray(payload.ca_who) ? payload.ca_who : undefined;
    if (!Array.isArray(ids) || !ids.length || (who && who.length !== ids.length)) return undefined;
    const standing = await this.standing(configId, identifier);
    if (typeof payload.rev === 'number') {
      // Revoked since the mint: counted by this build, or (rev_nb moved) by an older one.
      const seen = typeof payload.rev_nb === 'number' ? payload.rev_nb : undefined;
      if (payload.rev < standing.generation || seen !== standing.notBefore) return undefined;
    } else {
      // Minted by an older build: ordered by the minting and revoking replicas' clocks.
      const minted = typeof payload.mint_ms === 'number' ? payload.mint_ms : (payload.iat ?? 0) * 1000;
      if (standing.notBefore !== undefined && minted < standing.notBefore) return undefined;
    }
    for (const [index, id] of ids.entries()) {
      const consented = typeof id === 'string' ? standing.accounts.get(id) : undefined;
      if (consented === undefined || (who && consented !== who[index])) return undefined;
    }
    return { identifier, configId };
  }

  private async standing(configId: string, identifier: string): Promise<Standing> {
    await this.deps.changes.sync();
    const key = `${configId}\u0000${identifier}`;
    const cached = this.standings.get(key);
    if (cached) return cached;
    const generation = this.standings.generation;
    const [accounts, revocation] = await Promise.all([
      this.deps.db
        .selectFrom('connected_accounts as a')
        .innerJoin('mcp_config_mappings as m', 'm.connection_id', 'a.connection_id')
        .select(['a.id', 'a.provider_account'])
        .where('m.config_id', '=', configId)
        .where('a.identifier', '=', identifier)
        .where('a.status', '=', 'ACTIVE')
        .execute(),
      this.revocation(configId, identifier),
    ]);
    const standing: Standing = {
      accounts: new Map(accounts.map((a) => [a.id, consentedBy(a.provider_account)])),
      ...revocation,
    };
    this.standings.set(key, standing, generation);
    return standing;
  }

  private async revocation(configId: string, identifier: string): Promise<Revocation> {
    const row = await this.deps.db
      .selectFrom('mcp_session_revocations')
      .select(['generation', 'not_before'])
      .where('config_id', '=', configId)
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    return row
      ? { generation: row.generation, notBefore: Date.parse(row.not_before) }
      : { generation: 0, notBefore: undefined };
  }
}
