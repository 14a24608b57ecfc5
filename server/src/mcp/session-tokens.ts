import type { McpSessionToken } from '@switchboard/sdk';
import type { Kysely } from 'kysely';
import type { SigningKeys } from '../auth/signing-keys.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import { type ConfigDetail, configServerUrl } from './configs.js';

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
  constructor(private readonly deps: Deps) {}

  async mint(config: ConfigDetail, identifier: string, expiresInSeconds: number): Promise<McpSessionToken> {
    if (!config.mappings.length) {
      throw new AppError('failed_precondition', `MCP config ${config.name} maps no connections`);
    }
    const accounts = await this.deps.db
      .selectFrom('connected_accounts')
      .select(['id', 'connection_id'])
      .where(
        'connection_id',
        'in',
        config.mappings.map((m) => m.connection_id),
      )
      .where('identifier', '=', identifier)
      .where('status', '=', 'ACTIVE')
      .execute();
    const active = new Map(accounts.map((a) => [a.connection_id, a.id]));
    const missing = config.mappings.filter((m) => !active.has(m.connection_id)).map((m) => m.connection_name);
    if (missing.length) {
      throw new AppError(
        'failed_precondition',
        `${identifier} has no ACTIVE connected account for ${missing.join(', ')}; connect them first (POST /api/v1/mcp/configs/${config.id}/connected_accounts with include_auth_link)`,
        { details: { connections: missing } },
      );
    }
    const { publicUrl } = this.deps.config;
    const token = await this.deps.signingKeys.sign(
      { sub: identifier, mcp_cfg: config.id, ca_ids: config.mappings.map((m) => active.get(m.connection_id)) },
      { audience: configServerUrl(publicUrl, config.id), issuer: publicUrl, expiresInSeconds },
    );
    // sign() stamps exp from the same clock, in whole seconds.
    const expiresAt = new Date((Math.floor(this.deps.clock.now() / 1000) + expiresInSeconds) * 1000).toISOString();
    return { token, expires_at: expiresAt };
  }

  /**
   * The claims of a token presented at config `configId`'s URL, or undefined when it is
   * invalid, expired, or minted for another config (audience and mcp_cfg both checked).
   */
  async verify(token: string, configId: string): Promise<SessionClaims | undefined> {
    const { publicUrl } = this.deps.config;
    try {
      const payload = await this.deps.signingKeys.verify(token, {
        audience: configServerUrl(publicUrl, configId),
        issuer: publicUrl,
      });
      if (payload.mcp_cfg !== configId || typeof payload.sub !== 'string' || !payload.sub) return undefined;
      return { identifier: payload.sub, configId };
    } catch {
      return undefined;
    }
  }
}
