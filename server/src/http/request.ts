import type { Page } from '@switchboard/sdk';
import type { Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { validationError } from '../validation.js';
import { readBodyText } from './body.js';

/** Reads a JSON body: size-limited, JSON content type, parsed, validated by `schema`. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  const text = await readBodyText(c.req.raw, maxBytes);
  let value: unknown = {};
  if (text.trim() !== '') {
    if (type && !type.includes('json')) {
      throw new AppError('unsupported_media_type', 'send the body as application/json');
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new AppError('invalid_json', 'the body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/**
 * Reads query parameters, keeping repeated keys as arrays (`?a=1&a=2`) and keeping dotted
 * names (`filter.name`) as they are, then validates them.
 */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const url = new URL(c.req.url);
  const raw: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    raw[key] = all.length > 1 ? all : (all[0] ?? '');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** A query value that may come once or repeated, or comma separated. */
export const queryList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((v) => v.trim()).filter(Boolean));

export const pageSize = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** Opaque page tokens: base64url of the offset. Enough for lists ordered by a stable key. */
export function encodePageToken(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

/** Past this an offset is no page of any list we serve, and both engines still take it as an integer. */
const MAX_PAGE_OFFSET = 2_147_483_647;

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  // A token is a few bytes; a huge one is refused before it is decoded.
  const decoded = token.length > 64 ? '' : Buffer.from(token, 'base64url').toString();
  const match = /^o:(\d{1,10})$/.exec(decoded);
  const offset = match ? Number(match[1]) : Number.NaN;
  if (!(offset <= MAX_PAGE_OFFSET)) throw new AppError('invalid_request', 'page_token is not valid');
  return offset;
}

export function pageTokens(offset: number, size: number, total: number): Page {
  return {
    next_page_token: offset + size < total ? encodePageToken(offset + size) : '',
    prev_page_token: offset > 0 ? encodePageToken(Math.max(0, offset - size)) : '',
    total_size: total,
  };
}
