import type { Page } from '@switchboard/sdk';
import type { Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { validationError } from '../validation.js';

/** Reads a JSON body: size-limited, JSON content type, parsed, validated by `schema`. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  const length = Number(c.req.header('content-length') ?? '0');
  if (length > maxBytes) throw new AppError('payload_too_large', `the body is larger than ${maxBytes} bytes`);
  const text = await c.req.text();
  if (Buffer.byteLength(text) > maxBytes)
    throw new AppError('payload_too_large', `the body is larger than ${maxBytes} bytes`);
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

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  const decoded = Buffer.from(token, 'base64url').toString();
  const match = /^o:(\d+)$/.exec(decoded);
  if (!match) throw new AppError('invalid_request', 'page_token is not valid');
  return Number(match[1]);
}

export function pageTokens(offset: number, size: number, total: number): Page {
  return {
    next_page_token: offset + size < total ? encodePageToken(offset + size) : '',
    prev_page_token: offset > 0 ? encodePageToken(Math.max(0, offset - size)) : '',
    total_size: total,
  };
}
