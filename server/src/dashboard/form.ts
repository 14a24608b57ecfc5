import type { Context } from 'hono';
import { AppError } from '../errors.js';

export type FormFields = Record<string, string | string[]>;

/** A submitted form (urlencoded or multipart), size-limited; repeated names become arrays. */
export async function readForm(c: Context, maxBytes: number): Promise<FormFields> {
  const length = Number(c.req.header('content-length') ?? '0');
  if (length > maxBytes) throw new AppError('payload_too_large', `the form is larger than ${maxBytes} bytes`);
  const type = c.req.header('content-type') ?? '';
  if (!type.includes('application/x-www-form-urlencoded') && !type.includes('multipart/form-data')) return {};
  const body = await c.req.parseBody({ all: true });
  const fields: FormFields = {};
  for (const [key, value] of Object.entries(body)) {
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
    if (values.length) fields[key] = values.length === 1 && !key.endsWith('[]') ? (values[0] ?? '') : values;
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
