import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { SETTINGS_SHARING_SCOPES } from '../scopes.js';
import { sendAsEmailField } from '../send-as-fields.js';
import { gmailUrl, segment } from '../urls.js';

export const verifySendAs = defineTool({
  name: 'gmail_verify_send_as',
  description:
    'Send the verification email for a send-as alias again (when its verificationStatus is "pending"); the owner of that address must click the link in it. Needs the gmail.settings.sharing scope. Returns { success: true, sendAsEmail }.',
  input: z.object({ send_as_email: sendAsEmailField.describe('The pending alias to verify.') }),
  annotations: creates('Resend send-as verification'),
  scopes: SETTINGS_SHARING_SCOPES,
  async run(input, ctx) {
    await ctx.api.request({
      method: 'POST',
      url: gmailUrl(`settings/sendAs/${segment(input.send_as_email)}/verify`),
    });
    return { success: true, sendAsEmail: input.send_as_email };
  },
});
