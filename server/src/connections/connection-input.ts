import { z } from 'zod';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { Catalog } from '../providers/index.js';
import type { ConnectionRow, Connections } from './connections.js';

/**
 * What a caller may send to create or change a connection, and the rules both the REST API
 * and the dashboard apply to it.
 */

const connectionName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'use 1–64 letters, digits, "_" or "-", starting with a letter or digit');
const scopes = z.array(z.string().min(1).max(300)).max(50);
const target = z.enum(['sandbox', 'provider']);
/**
 * Google Cloud Console hands out the OAuth client as a JSON file: pasted whole, it would be
 * stored as the secret and fail every token exchange later with an obscure invalid_client.
 * The message never repeats the value.
 */
const oauthClientSecret = z
  .string()
  .min(1)
  .max(500)
  .refine((secret) => !isJsonObject(secret), {
    message:
      "looks like Google's downloaded client_secret JSON file: give its web.client_secret (or installed.client_secret) value",
  });

function isJsonObject(text: string): boolean {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}
/** The app page that confirms who consented (user verification) for this connection's links. */
const userVerifyUrl = z.url({ protocol: /^https?$/ }).max(2000);

export const createBody = z.strictObject({
  name: connectionName,
  provider: z.string().min(1),
  target: target.optional(),
  oauth_client_id: z.string().min(1).max(500).optional(),
  oauth_client_secret: oauthClientSecret.optional(),
  scopes: scopes.optional(),
  user_verify_url: userVerifyUrl.optional(),
});

export const updateBody = z.strictObject({
  name: connectionName.optional(),
  target: target.optional(),
  oauth_client_id: z.string().min(1).max(500).optional(),
  oauth_client_secret: oauthClientSecret.nullable().optional(),
  scopes: scopes.optional(),
  /** `null` clears it (the server's SWITCHBOARD_USER_VERIFY_URL, if any, applies again). */
  user_verify_url: userVerifyUrl.nullable().optional(),
  /** Required (true) with a `target` that differs from the current one: the switch drops every grant. */
  confirm_target_change: z.boolean().optional(),
});

/**
 * Scopes as a connection should store them: exactly the provider's defaults (in any order)
 * become `[]`, "follow the defaults", so a form pre-filled with them does not pin today's
 * defaults when it is saved unchanged.
 */
export function scopesToStore(defaultScopes: readonly string[], scopes: string[]): string[] {
  const given = new Set(scopes);
  const same = given.size === new Set(defaultScopes).size && defaultScopes.every((scope) => given.has(scope));
  return same ? [] : scopes;
}

/** The sandbox accepts any OAuth app; these stand in when a sandbox connection names none. */
const SANDBOX_CLIENT_ID = 'switchboard-sandbox-client';
const SANDBOX_CLIENT_SECRET = 'sandbox-secret';

/** A connection to the sandbox needs a sandbox: in production mode there is none unless asked for. */
function assertSandboxAvailable(config: Pick<Config, 'sandbox'>): void {
  if (config.sandbox.enabled) return;
  throw new AppError(
    'validation_failed',
    'target: this server has no sandbox (production mode); give oauth_client_id and oauth_client_secret to connect to the real provider',
  );
}

/** Creates a connection from a validated body: the rules the REST API and the dashboard share. */
export async function createConnection(
  services: { connections: Connections; catalog: Catalog; config: Pick<Config, 'sandbox'> },
  body: z.output<typeof createBody>,
): Promise<ConnectionRow> {
  const { catalog, connections, config } = services;
  if (!catalog.providers.has(body.provider)) {
    throw new AppError(
      'validation_failed',
      `provider: unknown provider "${body.provider}" (known: ${[...catalog.providers.keys()].join(', ')})`,
    );
  }
  if (body.target === undefined && !config.sandbox.enabled && (!body.oauth_client_id || !body.oauth_client_secret)) {
    const missing = (['oauth_client_id', 'oauth_client_secret'] as const).filter((field) => !body[field]);
    throw new AppError(
      'validation_failed',
      `${missing.join(', ')}: required, this server has no sandbox (production mode) to stand in for the provider's OAuth app`,
    );
  }
  const chosenTarget = body.target ?? (body.oauth_client_id ? 'provider' : 'sandbox');
  if (chosenTarget === 'sandbox') assertSandboxAvailable(config);
  if (chosenTarget === 'provider' && (!body.oauth_client_id || !body.oauth_client_secret)) {
    throw new AppError(
      'validation_failed',
      `oauth_client_id and oauth_client_secret are required for a connection to the real provider${config.sandbox.enabled ? ' (or use target "sandbox")' : ''}`,
    );
  }
  return connections.create({
    name: body.name,
    provider: body.provider,
    target: chosenTarget,
    oauthClientId: body.oauth_client_id ?? SANDBOX_CLIENT_ID,
    oauthClientSecret: body.oauth_client_secret ?? (chosenTarget === 'sandbox' ? SANDBOX_CLIENT_SECRET : undefined),
    scopes: body.scopes ?? [],
    userVerifyUrl: body.user_verify_url ?? null,
  });
}

/**
 * Applies a validated update body to a connection. Switching between sandbox and provider
 * must be confirmed (`confirm_target_change: true`): it drops every grant of the
 * connection's accounts. The OAuth app never crosses over: a switch to the sandbox replaces
 * the provider's client id and secret with the sandbox stand-ins (unless new ones are
 * given), and a switch to the provider needs the real app's id and secret in the same call.
 */
export async function updateConnection(
  services: { connections: Connections; config: Pick<Config, 'sandbox'> },
  id: string,
  body: z.output<typeof updateBody>,
): Promise<ConnectionRow> {
  if (body.target === 'sandbox') assertSandboxAvailable(services.config);
  let oauthClientId = body.oauth_client_id;
  let oauthClientSecret = body.oauth_client_secret;
  if (body.target !== undefined) {
    const existing = await services.connections.get(id);
    if (existing.target !== body.target) {
      if (body.confirm_target_change !== true) {
        throw new AppError(
          'validation_failed',
          `confirm_target_change: switching ${existing.name} from ${existing.target} to ${body.target} drops the tokens of all its connected accounts (every user must consent again); send confirm_target_change: true to go ahead`,
        );
      }
      if (body.target === 'sandbox') {
        oauthClientId ??= SANDBOX_CLIENT_ID;
        oauthClientSecret ??= SANDBOX_CLIENT_SECRET;
      } else if (!oauthClientId || !oauthClientSecret) {
        throw new AppError(
          'validation_failed',
          'oauth_client_id and oauth_client_secret: required to switch to the real provider (the sandbox stand-ins are never sent to it)',
        );
      }
    }
  }
  return services.connections.update(id, {
    name: body.name,
    target: body.target,
    oauthClientId,
    oauthClientSecret,
    scopes: body.scopes,
    userVerifyUrl: body.user_verify_url,
  });
}
