import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { draftIdField } from '../params.js';
import { DRAFT_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const sendDraft = defineTool({
  name: 'gmail_send_draft',
  description:
    'Send an existing draft to its recipients as it is saved; the draft is removed once sent. Returns the sent message { id, threadId, labelIds }.',
  input: z.object({ draft_id: draftIdField.describe('Id of the draft to send.') }),
  annotations: creates('Send email draft'),
  scopes: DRAFT_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ method: 'POST', url: gmailUrl('drafts/send'), body: { id: input.draft_id } });
  },
});
