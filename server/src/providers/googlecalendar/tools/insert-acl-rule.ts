import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { aclUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  role: field.aclRole,
  scope_type: z
    .enum(['default', 'user', 'group', 'domain'])
    .describe(
      "Who gets access: 'user' or 'group' (scope_value is an email), 'domain' (scope_value is a domain), 'default' (the public; no scope_value).",
    ),
  scope_value: z
    .string()
    .min(1)
    .optional()
    .describe('The email address (user, group) or domain name (domain); required unless scope_type is default.'),
  send_notifications: field.sendAclNotifications,
});

export const insertAclRule = defineTool({
  name: 'googlecalendar_insert_acl_rule',
  description: [
    'Share a calendar: grant a user, group, domain or the public a role on it (see only free/busy, read, write, or own).',
    'If the person already has a rule, use googlecalendar_update_acl_rule to change the role instead. Needs owner access to the calendar.',
    'Returns the created Google AclRule { id (e.g. "user:ana@example.com"), role, scope }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Share calendar',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.aclWrite,
  async run(args, ctx) {
    if (args.scope_type === 'default' && args.scope_value !== undefined) {
      throw new AppError(
        'tool_input_invalid',
        "scope_value must be left out when scope_type is 'default' (the public)",
        {
          details: { field: 'scope_value' },
        },
      );
    }
    if (args.scope_type !== 'default' && args.scope_value === undefined) {
      throw new AppError('tool_input_invalid', `scope_value is required for scope_type '${args.scope_type}'`, {
        details: { field: 'scope_value' },
      });
    }
    return ctx.api.request({
      method: 'POST',
      url: aclUrl(args.calendar_id),
      query: { sendNotifications: args.send_notifications },
      body: {
        role: args.role,
        scope: args.scope_type === 'default' ? { type: 'default' } : { type: args.scope_type, value: args.scope_value },
      },
    });
  },
});
