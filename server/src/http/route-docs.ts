import { z } from 'zod';
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
  response: {
    status: number;
    description: string;
    /** Default application/json. */
    contentType?: string;
    /** The body, for JSON answers: the schema the handler's answer is typed by. */
    schema?: z.ZodType;
    /** Also answered as server-sent events, each `data:` line one message of `schema` (MCP Streamable HTTP). */
    events?: boolean;
    /** No body at all. */
    empty?: boolean;
    /** Other success statuses answered with the same body (ensure: 201 created, 200 found). */
    also?: number[];
  };
  /** Codes beyond those every route of its kind can answer (see the generator). */
  errors?: ErrorCode[];
  /**
   * oauth: failures in RFC 6749's `{ error, error_description }` (token and OAuth endpoints);
   * jsonrpc: JSON-RPC errors with the statuses in `errorStatuses` (the MCP endpoints); not the error table.
   */
  errorFormat?: 'oauth' | 'jsonrpc';
  errorStatuses?: number[];
  /** management: a bearer token from /oauth/token; mcp: an MCP access or session token, or the URL's secret; none: public. */
  auth: 'management' | 'mcp' | 'none';
}

/**
 * Shapes several answers share (Connection, McpConfig, …): registered here with their name, so
 * the reference lists each once under components.schemas and the operations refer to it.
 */
export const wireSchemas = z.registry<{ id: string }>();

/** `schema`, listed in the reference under `id`. */
export function named<T extends z.ZodType>(id: string, schema: T): T {
  wireSchemas.add(schema, { id });
  return schema;
}

/** The paging fields of every list answer. */
export const pageFields = {
  next_page_token: z.string(),
  prev_page_token: z.string(),
  total_size: z.number().int().nonnegative(),
};

/** The answer of a delete and the other calls that only say they succeeded. */
export const emptyAnswer = z.strictObject({});

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
