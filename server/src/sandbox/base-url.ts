import type { Context } from 'hono';

/**
 * The sandbox's own base URL, from the request: the part of the URL before `routeSuffix`.
 * Works standalone (`http://127.0.0.1:4010`) and mounted (`http://localhost:3000/sandbox`).
 */
export function sandboxBaseUrl(c: Context, routeSuffix: string): string {
  const url = new URL(c.req.url);
  const path = url.pathname.endsWith(routeSuffix) ? url.pathname.slice(0, -routeSuffix.length) : '';
  return `${url.origin}${path.replace(/\/+$/, '')}`;
}
