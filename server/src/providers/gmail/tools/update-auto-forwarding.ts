import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { SETTINGS_SHARING_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

interface AutoForwarding {
  enabled?: boolean;
  emailAddress?: string;
  disposition?: string;
}

export const updateAutoForwarding = defineTool({
  name: 'gmail_update_auto_forwarding',
  description: [
    'Turn forwarding of all incoming mail on or off. The target must already be a verified forwarding address (see gmail_list_forwarding_addresses / gmail_create_forwarding_address).',
    'Fields you leave out keep their current value. Needs the gmail.settings.sharing scope; on Google Workspace the admin may forbid forwarding.',
    'Returns the new setting { enabled, emailAddress?, disposition? }.',
  ].join(' '),
  input: z.object({
    enabled: z.boolean().describe('true to forward all incoming mail, false to stop.'),
    email_address: z
      .email()
      .optional()
      .describe('Verified forwarding address to send mail to; needed when turning forwarding on.'),
    disposition: z
      .enum(['leaveInInbox', 'archive', 'trash', 'markRead'])
      .optional()
      .describe('What to do with the original after forwarding: "leaveInInbox", "archive", "trash" or "markRead".'),
  }),
  annotations: setsState('Update auto-forwarding', true),
  scopes: SETTINGS_SHARING_SCOPES,
  async run(input, ctx) {
    const current = (await ctx.api.request<AutoForwarding>({ url: gmailUrl('settings/autoForwarding') })) ?? {};
    const next: AutoForwarding = {
      enabled: input.enabled,
      emailAddress: input.email_address ?? current.emailAddress,
      disposition: input.disposition ?? current.disposition ?? 'leaveInInbox',
    };
    if (next.enabled && !next.emailAddress) {
      throw new AppError('tool_input_invalid', 'email_address is needed to turn auto-forwarding on');
    }
    return ctx.api.request({ method: 'PUT', url: gmailUrl('settings/autoForwarding'), body: next });
  },
});
