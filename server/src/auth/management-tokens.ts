import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { ApiClients, ClientScope } from './api-clients.js';
import type { SigningKeys } from './signing-keys.js';

export function managementAudience(publicUrl: string): string {
  return `${publicUrl}/api`;
}

export interface ManagementCaller {
  clientId: string;
  scope: ClientScope;
}

/**
 * The check of a management access token, for every edge that takes one (REST, gRPC): signed
 * by us for the management audience, and its client still live, not revoked and not rotated
 * since the token was issued (through a per-process cache that every replica empties within a
 * poll of the change feed). Throws `unauthenticated` otherwise.
 */
export async function verifyManagementToken(
  deps: { config: Config; signingKeys: SigningKeys; apiClients: ApiClients },
  authorization: string | undefined,
): Promise<ManagementCaller> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) {
    throw new AppError('unauthenticated', 'send Authorization: Bearer <access token> (get one from POST /oauth/token)');
  }
  let clientId: string;
  let version: number;
  try {
    const payload = await deps.signingKeys.verify(match[1], {
      audience: managementAudience(deps.config.publicUrl),
      issuer: deps.config.publicUrl,
    });
    clientId = String(payload.sub);
    // Tokens from before secret rotation existed carry no `ver`: they belong to version 0.
    version = typeof payload.ver === 'number' ? payload.ver : 0;
  } catch {
    throw new AppError('unauthenticated', 'the access token is invalid or expired');
  }
  const scope = await deps.apiClients.tokenScope(clientId, version);
  if (!scope) {
    throw new AppError(
      'unauthenticated',
      'the access token was revoked (its client was revoked or rotated its secret)',
    );
  }
  return { clientId, scope };
}
