import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SETTINGS_READ_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const getVacationSettings = defineTool({
  name: 'gmail_get_vacation_settings',
  description:
    'Get the vacation responder (out-of-office auto-reply): whether it is on, its subject and message, who gets it, and its time window. Returns { enableAutoReply, responseSubject?, responseBodyPlainText?, responseBodyHtml?, restrictToContacts?, restrictToDomain?, startTime? (ms since epoch), endTime? }.',
  input: z.object({}),
  annotations: readOnly('Get vacation responder'),
  scopes: SETTINGS_READ_SCOPES,
  async run(_input, ctx) {
    return ctx.api.request({ url: gmailUrl('settings/vacation') });
  },
});
