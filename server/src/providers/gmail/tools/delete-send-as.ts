import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { SETTINGS_SHARING_SCOPES } from '../scopes.js';
import { sendAsEmailField } from '../send-as-fields.js';
import { gmailUrl, segment } from '../urls.js';

export const deleteSendAs = defineTool({
  name: 'gmail_delete_send_as',
  description:
    'Remove a send-as alias (the primary address cannot be removed). Needs the gmail.settings.sharing scope. Returns { success: true, sendAsEmail }.',
  input: z.object({ send_as_email: sendAsEmailField.describe('The alias to remove.') }),
  annotations: deletes('Remove send-as address'),
  scopes: SETTINGS_SHARING_SCOPES,
  async run(input, ctx) {
    await ctx.api.request({ method: 'DELETE', url: gmailUrl(`settings/sendAs/${segment(input.send_as_email)}`) });
    return { success: true, sendAsEmail: input.send_as_email };
  },
});
