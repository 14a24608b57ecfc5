import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const getAutoForwarding = defineTool({
  name: 'gmail_get_auto_forwarding',
  description:
    'Get the auto-forwarding setting: whether all incoming mail is forwarded, to which address, and what happens to the original. Returns { enabled, emailAddress?, disposition? ("leaveInInbox" | "archive" | "trash" | "markRead") }.',
  input: z.object({}),
  annotations: readOnly('Get auto-forwarding'),
  scopes: SETTINGS_READ_SCOPES,
  async run(_input, ctx) {
    return ctx.api.request({ url: gmailUrl('settings/autoForwarding') });
  },
});
