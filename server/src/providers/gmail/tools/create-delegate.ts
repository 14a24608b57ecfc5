import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { SETTINGS_SHARING_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const createDelegate = defineTool({
  name: 'gmail_create_delegate',
  description:
    'Give another user of the same Google Workspace organization delegated access to this mailbox (they can read, send and delete its mail). Only works for Workspace accounts through a service account with domain-wide delegation and the gmail.settings.sharing scope. Returns { delegateEmail, verificationStatus }.',
  input: z.object({ delegate_email: z.email().describe('Email address of the person to grant access to.') }),
  annotations: creates('Add mailbox delegate'),
  scopes: SETTINGS_SHARING_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl('settings/delegates'),
      body: { delegateEmail: input.delegate_email },
    });
  },
});
