import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const listForwardingAddresses = defineTool({
  name: 'gmail_list_forwarding_addresses',
  description:
    'List the addresses this mailbox may forward mail to, with their verification status (only "accepted" ones can be used by auto-forwarding or filters). Returns { forwardingAddresses: [{ forwardingEmail, verificationStatus }] }.',
  input: z.object({}),
  annotations: readOnly('List forwarding addresses'),
  scopes: SETTINGS_READ_SCOPES,
  async run(_input, ctx) {
    const answer = await ctx.api.request<{ forwardingAddresses?: unknown[] }>({
      url: gmailUrl('settings/forwardingAddresses'),
    });
    return { forwardingAddresses: answer?.forwardingAddresses ?? [] };
  },
});
