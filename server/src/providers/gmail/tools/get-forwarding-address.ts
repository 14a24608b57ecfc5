import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const getForwardingAddress = defineTool({
  name: 'gmail_get_forwarding_address',
  description:
    'Get one forwarding address and whether its owner has verified it ("accepted") or not yet ("pending"). Returns { forwardingEmail, verificationStatus }.',
  input: z.object({ forwarding_email: z.email().describe('The forwarding address to look up.') }),
  annotations: readOnly('Get forwarding address'),
  scopes: SETTINGS_READ_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ url: gmailUrl(`settings/forwardingAddresses/${segment(input.forwarding_email)}`) });
  },
});
