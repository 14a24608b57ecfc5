import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { sendAsEmailField } from '../send-as-fields.js';
import { gmailUrl, segment } from '../urls.js';

export const getSendAs = defineTool({
  name: 'gmail_get_send_as',
  description:
    'Get one send-as address: display name, reply-to, signature, default flag and verification status. Returns { sendAsEmail, displayName, replyToAddress?, signature?, isPrimary?, isDefault?, treatAsAlias?, verificationStatus? }.',
  input: z.object({ send_as_email: sendAsEmailField }),
  annotations: readOnly('Get send-as address'),
  scopes: SETTINGS_READ_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ url: gmailUrl(`settings/sendAs/${segment(input.send_as_email)}`) });
  },
});
