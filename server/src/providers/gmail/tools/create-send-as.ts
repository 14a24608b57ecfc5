import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { SETTINGS_SHARING_SCOPES } from '../scopes.js';
import { sendAsEmailField, sendAsFields } from '../send-as-fields.js';
import { gmailUrl } from '../urls.js';

export const createSendAs = defineTool({
  name: 'gmail_create_send_as',
  description: [
    'Add an address the user can send mail from (an alias). Gmail emails the address a verification link unless it belongs to the same Google Workspace domain; it is usable once "accepted" (resend with gmail_verify_send_as).',
    'Needs the gmail.settings.sharing scope; external addresses need an SMTP relay that this tool does not configure, so on consumer accounts Google may refuse them.',
    'Returns { sendAsEmail, displayName, replyToAddress?, signature?, isDefault?, treatAsAlias, verificationStatus }.',
  ].join(' '),
  input: z.object({
    send_as_email: sendAsEmailField.describe('The new address to send from, e.g. "sales@company.example".'),
    ...sendAsFields,
    treat_as_alias: z
      .boolean()
      .default(true)
      .describe(
        'Treat it as an alias of the same person (true, default) rather than someone the user sends on behalf of.',
      ),
  }),
  annotations: creates('Add send-as address'),
  scopes: SETTINGS_SHARING_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl('settings/sendAs'),
      body: {
        sendAsEmail: input.send_as_email,
        displayName: input.display_name,
        replyToAddress: input.reply_to_address,
        signature: input.signature,
        isDefault: input.is_default,
        treatAsAlias: input.treat_as_alias,
      },
    });
  },
});
