import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { SETTINGS_BASIC_SCOPES, SETTINGS_SHARING_SCOPES } from '../scopes.js';
import { sendAsEmailField, sendAsFields } from '../send-as-fields.js';
import { gmailUrl, segment } from '../urls.js';

export const updateSendAs = defineTool({
  name: 'gmail_update_send_as',
  description:
    "Change a send-as address's display name, reply-to address or signature, or make it the default From address; only the fields you pass change. The usual way to set the user's email signature (use their primary address from gmail_list_send_as). Returns the updated { sendAsEmail, displayName, replyToAddress?, signature?, isDefault?, … }.",
  input: z.object({ send_as_email: sendAsEmailField, ...sendAsFields }),
  annotations: setsState('Update send-as address', true),
  scopes: [...SETTINGS_BASIC_SCOPES, ...SETTINGS_SHARING_SCOPES],
  async run(input, ctx) {
    const body = {
      displayName: input.display_name,
      replyToAddress: input.reply_to_address,
      signature: input.signature,
      isDefault: input.is_default,
    };
    if (Object.values(body).every((value) => value === undefined)) {
      throw new AppError(
        'tool_input_invalid',
        'give at least one of display_name, reply_to_address, signature, is_default',
      );
    }
    return ctx.api.request({
      method: 'PATCH',
      url: gmailUrl(`settings/sendAs/${segment(input.send_as_email)}`),
      body,
    });
  },
});
