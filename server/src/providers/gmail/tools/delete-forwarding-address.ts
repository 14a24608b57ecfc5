import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { SETTINGS_SHARING_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const deleteForwardingAddress = defineTool({
  name: 'gmail_delete_forwarding_address',
  description:
    'Remove a forwarding address, which also stops any auto-forwarding or filter that uses it. Needs the gmail.settings.sharing scope. Returns { success: true, forwardingEmail }.',
  input: z.object({ forwarding_email: z.email().describe('The forwarding address to remove.') }),
  annotations: deletes('Remove forwarding address'),
  scopes: SETTINGS_SHARING_SCOPES,
  async run(input, ctx) {
    await ctx.api.request({
      method: 'DELETE',
      url: gmailUrl(`settings/forwardingAddresses/${segment(input.forwarding_email)}`),
    });
    return { success: true, forwardingEmail: input.forwarding_email };
  },
});
