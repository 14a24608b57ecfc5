import { ProviderError } from '../../errors.js';
import type { ToolContext } from '../types.js';
import { attachmentSchema, type GmailMessage, isMessage, messageSchema, parseResponse } from './gmail-types.js';
import {
  type CompactMessage,
  compactMessage,
  gmailFormat,
  type MessageFormat,
  SUMMARY_HEADERS,
} from './message-format.js';
import { gmailUrl, segment } from './urls.js';

/** Longest body kept per message when many are listed (gmail_fetch_mails). */
export const LIST_BODY_CHARS = 8_000;
/** Longest body kept when one message or thread is read. */
export const SINGLE_BODY_CHARS = 50_000;

export interface ReadOptions {
  format: MessageFormat;
  maxBodyChars: number;
  headerNames?: string[];
}

/** Query parameters of messages.get / threads.get for one of our formats. */
export function formatQuery(format: MessageFormat, headerNames?: string[]): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = { format: gmailFormat(format) };
  if (format === 'metadata') query.metadataHeaders = [...new Set([...SUMMARY_HEADERS, ...(headerNames ?? [])])];
  return query;
}

/** Turns a message Gmail returned into the compact shape, loading large text parts on demand. */
export function compactFor(ctx: ToolContext, message: GmailMessage, options: ReadOptions): Promise<CompactMessage> {
  return compactMessage(message, {
    ...options,
    loadPartData: async (attachmentId) => {
      const answer = await ctx.api.request({
        url: gmailUrl(`messages/${segment(message.id)}/attachments/${segment(attachmentId)}`),
      });
      return parseResponse(attachmentSchema, answer, 'attachment').data;
    },
  });
}

/** messages.get in the requested format, compacted. */
export async function readMessage(ctx: ToolContext, id: string, options: ReadOptions): Promise<CompactMessage> {
  const answer = await ctx.api.request({
    url: gmailUrl(`messages/${segment(id)}`),
    query: formatQuery(options.format, options.headerNames),
  });
  return compactFor(ctx, parseResponse(messageSchema, answer, 'message', isMessage), options);
}

/**
 * Like readMessage, but a message deleted between listing and reading (404) yields
 * undefined instead of failing the whole listing.
 */
export async function readListedMessage(
  ctx: ToolContext,
  id: string,
  options: ReadOptions,
): Promise<CompactMessage | undefined> {
  try {
    return await readMessage(ctx, id, options);
  } catch (error) {
    if (error instanceof ProviderError && error.code === 'provider_not_found') return undefined;
    throw error;
  }
}
