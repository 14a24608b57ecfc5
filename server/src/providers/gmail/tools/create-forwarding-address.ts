import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { SETTINGS_SHARING_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const createForwardingAddress = defineTool({
  name: 'gmail_create_forwarding_address',
  description:
    'Add an address this mailbox may forward mail to. Gmail emails that address a confirmation link; it stays "pending" until its owner clicks it, then becomes usable by gmail_update_auto_forwarding and filters. Needs the gmail.settings.sharing scope. Returns { forwardingEmail, verificationStatus }.',
  input: z.object({ forwarding_email: z.email().describe('The address to forward to, e.g. "me@other.example".') }),
  annotations: creates('Add forwarding address'),
  scopes: SETTINGS_SHARING_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl('settings/forwardingAddresses'),
      body: { forwardingEmail: input.forwarding_email },
    });
  },
});
