import type { Database } from '../db/schema.js';

/** An encrypted column: its table, the row key its context names, and the context its ciphertext is bound to. */
export interface EncryptedColumn {
  table: keyof Database;
  key: string;
  column: string;
  /** The additional data of the envelope (crypto/envelope.ts) for the row with this key. */
  context(id: string): string;
}

/**
 * Every encrypted column, written once. The services that write and read a column and
 * `keys reencrypt` (crypto/reencrypt.ts) all take its context from here, so a new secret
 * column, or a renamed context, cannot be missed by key rotation.
 */
export const ENCRYPTED_COLUMNS = {
  connectionClientSecret: {
    table: 'connections',
    key: 'id',
    column: 'oauth_client_secret_enc',
    context: (id: string) => `connections:${id}:oauth_client_secret`,
  },
  accountTokens: {
    table: 'connected_accounts',
    key: 'id',
    column: 'tokens_enc',
    context: (id: string) => `connected_accounts:${id}:tokens`,
  },
  heldGrant: {
    table: 'user_verifications',
    key: 'id',
    column: 'tokens_enc',
    context: (id: string) => `user_verifications:${id}:tokens`,
  },
  authRequestVerifier: {
    table: 'auth_requests',
    key: 'id',
    column: 'code_verifier_enc',
    context: (id: string) => `auth_requests:${id}:code_verifier`,
  },
  instanceUrlSecret: {
    table: 'mcp_instances',
    key: 'id',
    column: 'url_secret_enc',
    context: (id: string) => `mcp_instances:${id}:url_secret`,
  },
  mcpOAuthUpstreamVerifier: {
    table: 'mcp_oauth_requests',
    key: 'id',
    column: 'upstream_verifier_enc',
    context: (id: string) => `mcp_oauth_requests:${id}:upstream_verifier`,
  },
  signingKey: {
    table: 'signing_keys',
    key: 'kid',
    column: 'private_jwk_enc',
    context: (kid: string) => `signing_keys:${kid}`,
  },
} as const satisfies Record<string, EncryptedColumn>;
