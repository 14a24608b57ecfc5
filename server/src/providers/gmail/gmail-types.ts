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

/** Parses a provider answer, or fails with a ProviderError naming what was expected. */
export function parseResponse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ProviderError('provider_error', `Gmail returned an unexpected ${what}`, { cause: result.error });
  }
  return result.data;
}
