import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SCOPE } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const getProfile = defineTool({
  name: 'gmail_get_profile',
  description:
    "Get the connected Gmail account: its email address, total message and thread counts, and the mailbox's current historyId (the starting point for gmail_list_history). Use it to learn which address the user sends from. Returns { emailAddress, messagesTotal, threadsTotal, historyId }.",
  input: z.object({}),
  annotations: readOnly('Get Gmail profile'),
  // users.getProfile also accepts gmail.compose, unlike the other read methods.
  scopes: [SCOPE.full, SCOPE.modify, SCOPE.compose, SCOPE.readonly, SCOPE.metadata],
  async run(_input, ctx) {
    return ctx.api.request({ url: gmailUrl('profile') });
  },
});
