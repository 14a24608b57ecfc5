import { z } from 'zod';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { labelIdsField } from '../params.js';
import { READ_METADATA_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const watchMailbox = defineTool({
  name: 'gmail_watch_mailbox',
  description: [
    'Start (or renew) push notifications of mailbox changes to a Google Cloud Pub/Sub topic. The topic must exist and grant publish rights to gmail-api-push@system.gserviceaccount.com.',
    'A watch expires after 7 days: call again at least weekly. Each notification carries a historyId to pass to gmail_list_history. Stop with gmail_stop_mailbox_watch.',
    'Returns { historyId, expiration (ms since epoch) }.',
  ].join(' '),
  input: z.object({
    topic_name: z
      .string()
      .regex(/^projects\/[^/]+\/topics\/[^/]+$/, 'a topic name looks like projects/<project-id>/topics/<topic>')
      .describe('Full Pub/Sub topic name, e.g. "projects/my-project/topics/gmail-events".'),
    label_ids: labelIdsField
      .optional()
      .describe('Only notify about changes to messages with these label ids, e.g. ["INBOX"].'),
    label_filter_behavior: z
      .enum(['include', 'exclude'])
      .default('include')
      .describe('"include": notify only for label_ids; "exclude": notify for everything except label_ids.'),
  }),
  annotations: setsState('Watch mailbox for changes', false),
  scopes: READ_METADATA_SCOPES,
  async run(input, ctx) {
    const labelIds = input.label_ids?.length ? input.label_ids : undefined;
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl('watch'),
      body: {
        topicName: input.topic_name,
        ...(labelIds ? { labelIds, labelFilterBehavior: input.label_filter_behavior } : {}),
      },
    });
  },
});
