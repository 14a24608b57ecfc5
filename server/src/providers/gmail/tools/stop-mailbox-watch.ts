import { z } from 'zod';
import { defineTool } from '../../types.js';
import { deletes } from '../annotations.js';
import { READ_METADATA_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const stopMailboxWatch = defineTool({
  name: 'gmail_stop_mailbox_watch',
  description:
    'Stop the push notifications started with gmail_watch_mailbox for this mailbox. Returns { success: true }.',
  input: z.object({}),
  annotations: deletes('Stop watching mailbox'),
  scopes: READ_METADATA_SCOPES,
  async run(_input, ctx) {
    await ctx.api.request({ method: 'POST', url: gmailUrl('stop') });
    return { success: true };
  },
});
