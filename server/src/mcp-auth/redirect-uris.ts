import { isLoopbackHost, isLoopbackIp } from './addresses.js';

/**
 * Whether `requested` is one of the client's registered redirect URIs: exact string match,
 * except that a registered http URI on a loopback host (an IP literal, or `localhost`, which MCP clients use) matches the same URI on any port,
 * because native apps listen on an ephemeral port (RFC 8252 §7.3, OAuth 2.0 Security BCP §4.1.3).
 */
export function redirectUriMatches(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  let asked: URL;
  try {
    asked = new URL(requested);
  } catch {
    return false;
  }
  if (asked.protocol !== 'http:' || !isLoopbackHost(asked.hostname)) return false;
  return registered.some((uri) => {
    let known: URL;
    try {
      known = new URL(uri);
    } catch {
      return false;
    }
    if (known.protocol !== 'http:' || known.hostname !== asked.hostname) return false;
    known.port = '';
    const withoutPort = new URL(asked);
    withoutPort.port = '';
    return known.href === withoutPort.href;
  });
}

/**
 * A redirect URI a client may register: https anywhere; http only on loopback (RFC 8252
 * §7.3; `localhost` is allowed as clients such as MCP Inspector use it); a native app's own
 * scheme (RFC 8252 §7.1). Never a fragment.
 */
export function acceptableRedirectUri(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.hash) return false;
  if (url.protocol === 'https:') return true;
  if (url.protocol === 'http:') return isLoopbackIp(url.hostname) || url.hostname === 'localhost';
  // A native app's own scheme (RFC 8252 §7.1 asks for reverse domain names, but Cursor, for
  // one, registers cursor://…); never a scheme a browser would run or read locally.
  return !/^(javascript|data|file|vbscript|about|blob|filesystem|ws|wss|ftp):$/i.test(url.protocol);
}
