import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const listSendAs = defineTool({
  name: 'gmail_list_send_as',
  description:
    'List the addresses the user can send mail from (their primary address and aliases), with display names, signatures and which one is the default. Returns { sendAs: [{ sendAsEmail, displayName, replyToAddress?, signature?, isPrimary?, isDefault?, treatAsAlias?, verificationStatus? }] }.',
  input: z.object({}),
  annotations: readOnly('List send-as addresses'),
  scopes: SETTINGS_READ_SCOPES,
  async run(_input, ctx) {
    const answer = await ctx.api.request<{ sendAs?: unknown[] }>({ url: gmailUrl('settings/sendAs') });
    return { sendAs: answer?.sendAs ?? [] };
  },
});
