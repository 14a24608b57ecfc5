import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { draftSchema, parseResponse } from '../gmail-types.js';
import { compactFor, formatQuery, SINGLE_BODY_CHARS } from '../message-reader.js';
import { draftIdField, messageFormatField } from '../params.js';
import { DRAFT_READ_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const getDraft = defineTool({
  name: 'gmail_get_draft',
  description:
    'Read one draft: its recipients, subject and body. Returns { id, message: { id, threadId, labelIds, snippet, internalDate, date, from, to, cc?, subject, body, attachments } }, the message in the same shape as gmail_get_message_by_id.',
  input: z.object({
    draft_id: draftIdField,
    format: messageFormatField('full'),
  }),
  annotations: readOnly('Get email draft'),
  scopes: DRAFT_READ_SCOPES,
  async run(input, ctx) {
    const draft = parseResponse(
      draftSchema,
      await ctx.api.request({ url: gmailUrl(`drafts/${segment(input.draft_id)}`), query: formatQuery(input.format) }),
      'draft',
    );
    if (!draft.message) return { id: draft.id };
    const message = await compactFor(ctx, draft.message, { format: input.format, maxBodyChars: SINGLE_BODY_CHARS });
    return { id: draft.id, message };
  },
});
