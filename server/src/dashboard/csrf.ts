import type { Context } from 'hono';
import type { Config } from '../config.js';
import { safeEqual } from '../crypto/random.js';
import { readForm } from './form.js';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isUnsafe(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * The request comes from a page of this server: its Origin (or, lacking one, its Referer)
 * is the public URL's origin or the origin the browser addressed. A request that names no
 * origin at all is refused too, since every browser sends Origin on a POST.
 */
export function sameOrigin(c: Context, config: Config): boolean {
  if (c.req.header('sec-fetch-site') === 'cross-site') return false;
  const allowed = new Set([new URL(config.publicUrl).origin, new URL(c.req.url).origin]);
  const origin = c.req.header('origin');
  if (origin !== undefined) return allowed.has(origin);
  const referer = c.req.header('referer');
  if (referer && URL.canParse(referer)) return allowed.has(new URL(referer).origin);
  return false;
}

/**
 * The token the request presents: the form field, or the header that the page's script sends.
 * The form is read once, within `maxBytes`, and kept for the page that handles it.
 */
export async function presentedToken(c: Context, maxBytes: number): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const value = (await readForm(c, maxBytes))[CSRF_FIELD];
  return typeof value === 'string' ? value : undefined;
}

/** Synchronizer-token check: the token tied to the session, compared in constant time. */
export async function validCsrf(c: Context, config: Config, expected: string): Promise<boolean> {
  if (!sameOrigin(c, config)) return false;
  const token = await presentedToken(c, config.maxBodyBytes);
  return token !== undefined && safeEqual(token, expected);
}
