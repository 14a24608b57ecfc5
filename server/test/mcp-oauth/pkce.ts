import { createHash, randomBytes } from 'node:crypto';

/** A fresh PKCE pair (RFC 7636, S256), as an MCP client makes one per sign-in. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
