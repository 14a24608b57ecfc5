import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { composeFields, composeMessage } from '../compose-request.js';
import { SEND_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const sendMessage = defineTool({
  name: 'gmail_send_message',
  description: [
    'Send an email from the user\'s Gmail account right away. Plain text by default; set content_type "text/html" for HTML (a plain-text version is added for you).',
    'To answer an existing conversation prefer gmail_reply_to_thread; to let the user review first, use gmail_create_draft.',
    'Returns the sent message { id, threadId, labelIds } (labelIds includes "SENT").',
  ].join(' '),
  input: z.object(composeFields),
  annotations: creates('Send email'),
  scopes: SEND_SCOPES,
  async run(input, ctx) {
    const message = await composeMessage(ctx, input);
    return ctx.api.request({ method: 'POST', url: gmailUrl('messages/send'), body: message });
  },
});
