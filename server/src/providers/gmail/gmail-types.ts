import { z } from 'zod';
import { ProviderError } from '../../errors.js';

/**
 * The parts of Gmail's resources that tools read, as zod schemas so that a malformed
 * answer fails loudly at the boundary. Objects stay loose: unknown fields pass through.
 * https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages
 */

export const headerSchema = z.object({ name: z.string(), value: z.string() });
export type GmailHeader = z.infer<typeof headerSchema>;

export const partBodySchema = z.looseObject({
  attachmentId: z.string().optional(),
  size: z.number().optional(),
  data: z.string().optional(),
});

export interface GmailMessagePart {
  partId?: string | undefined;
  mimeType?: string | undefined;
  filename?: string | undefined;
  headers?: GmailHeader[] | undefined;
  body?: z.infer<typeof partBodySchema> | undefined;
  parts?: GmailMessagePart[] | undefined;
}

export const messagePartSchema: z.ZodType<GmailMessagePart> = z.looseObject({
  partId: z.string().optional(),
  mimeType: z.string().optional(),
  filename: z.string().optional(),
  headers: z.array(headerSchema).optional(),
  body: partBodySchema.optional(),
  get parts() {
    return z.array(messagePartSchema).optional();
  },
});

export const messageSchema = z.looseObject({
  id: z.string(),
  threadId: z.string().optional(),
  labelIds: z.array(z.string()).optional(),
  snippet: z.string().optional(),
  historyId: z.string().optional(),
  internalDate: z.string().optional(),
  sizeEstimate: z.number().optional(),
  payload: messagePartSchema.optional(),
  raw: z.string().optional(),
});
export type GmailMessage = z.infer<typeof messageSchema>;

export const messageListSchema = z.looseObject({
  messages: z.array(z.looseObject({ id: z.string(), threadId: z.string().optional() })).optional(),
  nextPageToken: z.string().optional(),
  resultSizeEstimate: z.number().optional(),
});

export const threadSchema = z.looseObject({
  id: z.string(),
  historyId: z.string().optional(),
  snippet: z.string().optional(),
  messages: z.array(messageSchema).optional(),
});

export const draftSchema = z.looseObject({
  id: z.string(),
  message: messageSchema.optional(),
});

export const attachmentSchema = z.looseObject({
  attachmentId: z.string().optional(),
  size: z.number().optional(),
  data: z.string().optional(),
});

/*
 * Checks that accept only values their schema above accepts, without building the copy zod's
 * parse makes: on a message (headers, nested parts) that parse was the largest CPU cost of
 * reading it. A value a check refuses still goes to zod, which accepts it or names what is wrong.
 */
type Check = (value: unknown) => boolean;
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString: Check = (value) => typeof value === 'string';
const isNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const optional = (value: unknown, check: Check) => value === undefined || check(value);
const arrayOf = (value: unknown, check: Check) => Array.isArray(value) && value.every(check);

const isHeader: Check = (value) => isRecord(value) && isString(value.name) && isString(value.value);
const isPartBody: Check = (value) =>
  isRecord(value) &&
  optional(value.attachmentId, isString) &&
  optional(value.size, isNumber) &&
  optional(value.data, isString);
const isMessagePart: Check = (value) =>
  isRecord(value) &&
  optional(value.partId, isString) &&
  optional(value.mimeType, isString) &&
  optional(value.filename, isString) &&
  optional(value.headers, (headers) => arrayOf(headers, isHeader)) &&
  optional(value.body, isPartBody) &&
  optional(value.parts, (parts) => arrayOf(parts, isMessagePart));

/** What messageSchema accepts (or less). */
export const isMessage: Check = (value) =>
  isRecord(value) &&
  isString(value.id) &&
  optional(value.threadId, isString) &&
  optional(value.labelIds, (labels) => arrayOf(labels, isString)) &&
  optional(value.snippet, isString) &&
  optional(value.historyId, isString) &&
  optional(value.internalDate, isString) &&
  optional(value.sizeEstimate, isNumber) &&
  optional(value.payload, isMessagePart) &&
  optional(value.raw, isString);

/** What messageListSchema accepts (or less). */
export const isMessageList: Check = (value) =>
  isRecord(value) &&
  optional(value.messages, (messages) =>
    arrayOf(messages, (ref) => isRecord(ref) && isString(ref.id) && optional(ref.threadId, isString)),
  ) &&
  optional(value.nextPageToken, isString) &&
  optional(value.resultSizeEstimate, isNumber);

/**
 * Parses a provider answer, or fails with a ProviderError naming what was expected. With a
 * `check` that accepts no more than the schema does, a value it accepts is returned as is.
 */
export function parseResponse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: string,
  check?: Check,
): z.output<T> {
  if (check?.(value)) return value as z.output<T>;
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ProviderError('provider_error', `Gmail returned an unexpected ${what}`, { cause: result.error });
  }
  return result.data;
}
