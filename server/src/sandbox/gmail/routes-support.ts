import type { Context } from 'hono';
import type { z } from 'zod';
import { googleError, invalidArgument } from '../google-errors.js';

/** Request helpers shared by the Gmail routes. */

export async function readJson<Schema extends z.ZodType>(
  c: Context,
  schema: Schema,
): Promise<z.output<Schema> | Response> {
  const text = await c.req.text();
  let body: unknown = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      return invalidArgument(`Invalid JSON payload received. Unexpected token.\n${text.slice(0, 40)}\n^`);
    }
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return invalidArgument(
      `Invalid JSON payload received. Invalid value at '${issue?.path.join('.') ?? ''}': ${issue?.message ?? ''}`,
    );
  }
  return parsed.data;
}

export function listParam(c: Context, name: string): string[] {
  return (c.req.queries(name) ?? []).flatMap((value) => value.split(',')).filter(Boolean);
}

export function boolParam(c: Context, name: string): boolean {
  return c.req.query(name) === 'true';
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | undefined;
}

/** Offsets behind opaque-looking page tokens; a bad token is a 400 like Gmail's. */
export function paginate<T>(c: Context, all: T[], defaultSize: number, maxSize: number): Page<T> | Response {
  const requested = Number(c.req.query('maxResults') ?? defaultSize);
  if (!Number.isInteger(requested) || requested < 0) return invalidArgument('Invalid maxResults');
  const size = Math.min(requested || defaultSize, maxSize);
  const token = c.req.query('pageToken');
  let offset = 0;
  if (token) {
    const decoded = Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^o:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) return invalidArgument('Invalid pageToken');
    offset = decoded;
  }
  const items = all.slice(offset, offset + size);
  const next = offset + size < all.length ? Buffer.from(`o:${offset + size}`).toString('base64url') : undefined;
  return { items, nextPageToken: next };
}

export function forbidden(message: string): Response {
  return googleError(403, { message, reason: 'forbidden', status: 'PERMISSION_DENIED' });
}

export const noContent = () => new Response(null, { status: 204 });
