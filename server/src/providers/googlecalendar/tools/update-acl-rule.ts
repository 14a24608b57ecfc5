import { z } from 'zod';
import { defineTool } from '../../types.js';
import { aclRuleUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  role: field.aclRole,
  rule_id: field.aclRuleId,
  send_notifications: field.sendAclNotifications,
});

export const updateAclRule = defineTool({
  name: 'googlecalendar_update_acl_rule',
  description: [
    'Change the role of an existing sharing rule of a calendar, e.g. turn a reader into a writer.',
    'To share with someone new use googlecalendar_insert_acl_rule; to revoke access use googlecalendar_delete_acl_rule.',
    'Returns the updated Google AclRule { id, role, scope }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Change calendar sharing role',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.aclWrite,
  async run(args, ctx) {
    return ctx.api.request({
      method: 'PATCH',
      url: aclRuleUrl(args.calendar_id, args.rule_id),
      query: { sendNotifications: args.send_notifications },
      body: { role: args.role },
    });
  },
});
