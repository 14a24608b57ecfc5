import { badRequest, fullSyncRequired } from './errors.js';

/** Opaque page and sync tokens: base64url JSON, so callers cannot mistake them for anything meaningful. */
export function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(token: string): string | undefined {
  try {
    const binary = atob(token.replace(/-/g, '+').replace(/_/g, '/'));
    return new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

function decodeJson(token: string): unknown {
  const text = fromBase64Url(token);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A page token remembers the offset and which collection it pages, so a token of another list is refused. */
export const encodePageToken = (scope: string, offset: number): string =>
  toBase64Url(JSON.stringify({ p: scope, o: offset }));

export function decodePageToken(scope: string, token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const value = decodeJson(token);
  if (
    typeof value === 'object' &&
    value !== null &&
    'p' in value &&
    'o' in value &&
    value.p === scope &&
    typeof value.o === 'number' &&
    Number.isInteger(value.o) &&
    value.o >= 0
  ) {
    return value.o;
  }
  throw badRequest('Invalid page token value.');
}

/** A sync token is the state revision seen by the last full listing of one collection. */
export const encodeSyncToken = (scope: string, revision: number): string =>
  toBase64Url(JSON.stringify({ s: scope, r: revision }));

export function decodeSyncToken(scope: string, token: string, currentRevision: number): number {
  const value = decodeJson(token);
  if (
    typeof value === 'object' &&
    value !== null &&
    's' in value &&
    'r' in value &&
    value.s === scope &&
    typeof value.r === 'number' &&
    value.r <= currentRevision
  ) {
    return value.r;
  }
  throw fullSyncRequired();
}
