import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { composeFields, composeMessage } from '../compose-request.js';
import { DRAFT_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const createDraft = defineTool({
  name: 'gmail_create_draft',
  description: [
    "Save an email as a draft in the user's Gmail (nothing is sent), so the user can review and send it, or send it later with gmail_send_draft.",
    'Set thread_id to draft a reply inside an existing conversation. Plain text by default; content_type "text/html" for HTML.',
    'Returns the draft { id, message: { id, threadId, labelIds } }; keep `id` for gmail_update_draft, gmail_send_draft or gmail_delete_draft.',
  ].join(' '),
  input: z.object(composeFields),
  annotations: creates('Create email draft'),
  scopes: DRAFT_SCOPES,
  async run(input, ctx) {
    const message = await composeMessage(ctx, input);
    return ctx.api.request({ method: 'POST', url: gmailUrl('drafts'), body: { message } });
  },
});
