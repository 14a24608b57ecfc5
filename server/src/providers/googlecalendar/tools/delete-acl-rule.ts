import { z } from 'zod';
import { defineTool } from '../../types.js';
import { aclRuleUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({ calendar_id: field.calendarId, rule_id: field.aclRuleId });

export const deleteAclRule = defineTool({
  name: 'googlecalendar_delete_acl_rule',
  description: [
    'Stop sharing a calendar with someone: delete one access rule (e.g. "user:ana@example.com"). The owner\'s own rule cannot be removed.',
    'To lower access instead of removing it use googlecalendar_update_acl_rule.',
    'Returns { deleted: true, calendar_id, rule_id }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Remove calendar sharing rule',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.aclWrite,
  async run(args, ctx) {
    await ctx.api.request({ method: 'DELETE', url: aclRuleUrl(args.calendar_id, args.rule_id) });
    return { deleted: true, calendar_id: args.calendar_id, rule_id: args.rule_id };
  },
});
