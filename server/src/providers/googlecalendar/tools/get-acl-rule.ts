import { z } from 'zod';
import { defineTool } from '../../types.js';
import { aclRuleUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({ calendar_id: field.calendarId, rule_id: field.aclRuleId });

export const getAclRule = defineTool({
  name: 'googlecalendar_get_acl_rule',
  description: [
    'Get one sharing rule of a calendar by its id (e.g. "user:ana@example.com"): the role it grants and to whom.',
    'To see every rule use googlecalendar_list_acl_rules.',
    "Returns Google's AclRule { id, role, scope: { type, value } }.",
  ].join(' '),
  input,
  annotations: {
    title: 'Get calendar sharing rule',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.aclGet,
  async run(args, ctx) {
    return ctx.api.request({ url: aclRuleUrl(args.calendar_id, args.rule_id) });
  },
});
