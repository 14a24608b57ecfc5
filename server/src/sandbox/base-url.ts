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

/**
 * The request's path below the sandbox's mount prefix (`/gmail/v1/users/me/profile`), for a
 * middleware the sandbox app registers at `*`: the prefix is found from the route it matched,
 * so the same reading works standalone and mounted under `/sandbox`.
 */
export function pathBelowMount(c: Context): string {
  const mountPrefix = c.req.routePath.replace(/\/?\*$/, '');
  const path = c.req.path;
  return mountPrefix && path.startsWith(mountPrefix) ? path.slice(mountPrefix.length) || '/' : path;
}
