import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { labelIdField } from '../label-fields.js';
import { LABEL_READ_SCOPES } from '../scopes.js';
import { gmailUrl, segment } from '../urls.js';

export const getLabel = defineTool({
  name: 'gmail_get_label',
  description:
    'Get one label with its message and thread counts, e.g. how many unread emails are in the inbox (label_id "INBOX"). Returns { id, name, type, messagesTotal, messagesUnread, threadsTotal, threadsUnread, labelListVisibility?, messageListVisibility?, color? }.',
  input: z.object({ label_id: labelIdField }),
  annotations: readOnly('Get email label'),
  scopes: LABEL_READ_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({ url: gmailUrl(`labels/${segment(input.label_id)}`) });
  },
});
