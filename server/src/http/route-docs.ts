import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';

/**
 * What one route says about itself for the API reference (/openapi.json, /docs). Each edge
 * declares these beside its handlers, with the same zod objects the handlers validate with, so
 * the reference cannot describe a body the route would refuse; a test walks the app's routes
 * and fails on any REST route without one.
 */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The Hono pattern exactly as registered, relative to where the edge is mounted (`/connections/:id`). */
  route: string;
  /** The path as callers write it, when it differs from the pattern (`/clients/{id}:revoke` served by `/clients/:action`). */
  path?: string;
  summary: string;
  description?: string;
  /** The group the route is listed under. */
  tag: string;
  body?: z.ZodType;
  /** A form body (application/x-www-form-urlencoded) rather than JSON. */
  form?: boolean;
  query?: z.ZodType;
  /** Path parameters by name, with what each one is. */
  params?: Record<string, string>;
  response: { status: number; description: string; contentType?: string };
  /** Codes beyond those every route of its kind can answer (see the generator). */
  errors?: ErrorCode[];
  /** oauth: failures in RFC 6749's `{ error, error_description }` (token and OAuth endpoints), not the error table. */
  errorFormat?: 'oauth';
  /** management: a bearer token from /oauth/token; mcp: an MCP access or session token, or the URL's secret; none: public. */
  auth: 'management' | 'mcp' | 'none';
}

/** The docs of an edge mounted at `prefix`. */
export function mountedAt(prefix: string, docs: readonly RouteDoc[]): RouteDoc[] {
  const base = prefix === '/' ? '' : prefix;
  return docs.map((doc) => ({ ...doc, route: base + doc.route, ...(doc.path ? { path: base + doc.path } : {}) }));
}

/**
 * `/connections/:id` → `/connections/{id}`: Hono's pattern in OpenAPI's spelling. Only a segment
 * that starts with `:` is a parameter; `/connected_accounts:search` is a literal custom method.
 */
export function openApiPath(route: string): string {
  return route.replace(/\/:([A-Za-z_][A-Za-z0-9_]*)/g, '/{$1}');
}
