import { z } from 'zod';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { composeFields, composeMessage } from '../compose-request.js';
import { draftIdField } from '../params.js';
import { DRAFT_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const updateDraft = defineTool({
  name: 'gmail_update_draft',
  description: [
    'Replace the whole content of an existing draft (recipients, subject, body): fields left out are not kept from the old version, so read it first with gmail_get_draft when changing only a part.',
    'Returns the draft { id, message: { id, threadId, labelIds } }.',
  ].join(' '),
  input: z.object({ draft_id: draftIdField, ...composeFields }),
  annotations: setsState('Update email draft', true),
  scopes: DRAFT_SCOPES,
  async run(input, ctx) {
    const message = await composeMessage(ctx, input);
    return ctx.api.request({
      method: 'PUT',
      url: gmailUrl(`drafts/${segment(input.draft_id)}`),
      body: { id: input.draft_id, message },
    });
  },
});
