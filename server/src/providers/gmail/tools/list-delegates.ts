import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const listDelegates = defineTool({
  name: 'gmail_list_delegates',
  description:
    'List the people who have delegated access to this mailbox (they can read, send and delete its mail). Google only allows this for Google Workspace accounts, through a service account with domain-wide delegation; consumer accounts get a permission error. Returns { delegates: [{ delegateEmail, verificationStatus }] }.',
  input: z.object({}),
  annotations: readOnly('List mailbox delegates'),
  scopes: SETTINGS_READ_SCOPES,
  async run(_input, ctx) {
    const answer = await ctx.api.request<{ delegates?: unknown[] }>({ url: gmailUrl('settings/delegates') });
    return { delegates: answer?.delegates ?? [] };
  },
});
