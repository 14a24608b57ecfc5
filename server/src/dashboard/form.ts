import type { Context } from 'hono';
import { readBodyBytes } from '../http/body.js';

export type FormFields = Record<string, string | string[]>;

/** Forms already read, by request: the CSRF check and the page both read the one body. */
const readForms = new WeakMap<Request, Promise<FormFields>>();

/**
 * A submitted form (urlencoded or multipart), size-limited while it streams in (a chunked
 * body is cut off at `maxBytes` too); repeated names become arrays. Files are dropped.
 */
export function readForm(c: Context, maxBytes: number): Promise<FormFields> {
  const request = c.req.raw;
  let form = readForms.get(request);
  if (!form) {
    form = parseForm(request, maxBytes);
    readForms.set(request, form);
  }
  return form;
}

async function parseForm(request: Request, maxBytes: number): Promise<FormFields> {
  const type = request.headers.get('content-type') ?? '';
  const urlencoded = type.includes('application/x-www-form-urlencoded');
  if (!urlencoded && !type.includes('multipart/form-data')) return {};
  const body = await readBodyBytes(request, maxBytes);
  const entries: Iterable<[string, unknown]> = urlencoded
    ? new URLSearchParams(new TextDecoder().decode(body))
    : await new Response(body, { headers: { 'content-type': type } }).formData();
  const collected = new Map<string, string[]>();
  for (const [key, value] of entries) {
    if (typeof value !== 'string') continue;
    const values = collected.get(key);
    if (values) values.push(value);
    else collected.set(key, [value]);
  }
  const fields: FormFields = {};
  for (const [key, values] of collected) {
    fields[key] = values.length === 1 && !key.endsWith('[]') ? (values[0] ?? '') : values;
  }
  return fields;
}

export function field(fields: FormFields, name: string): string {
  const value = fields[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

export function fieldList(fields: FormFields, name: string): string[] {
  const value = fields[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
