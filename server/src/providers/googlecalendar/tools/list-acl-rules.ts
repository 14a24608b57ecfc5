import { z } from 'zod';
import { defineTool } from '../../types.js';
import { aclUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  max_results: field.maxResults(250, 100),
  page_token: field.pageToken,
});

interface GoogleAcl {
  items?: unknown[];
  nextPageToken?: string;
}

export const listAclRules = defineTool({
  name: 'googlecalendar_list_acl_rules',
  description: [
    'List who a calendar is shared with and how: each access-control rule gives a role (reader, writer, owner, freeBusyReader)',
    "to a scope (a user, a group, a domain, or 'default' = the public). Needs owner access to the calendar.",
    'Returns { rules: Google AclRule objects { id, role, scope: { type, value } }, next_page_token (null on the last page) }.',
  ].join(' '),
  input,
  annotations: {
    title: 'List calendar sharing rules',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.aclList,
  async run(args, ctx) {
    const page = await ctx.api.request<GoogleAcl>({
      url: aclUrl(args.calendar_id),
      query: { maxResults: args.max_results ?? 100, pageToken: args.page_token },
    });
    return { rules: page.items ?? [], next_page_token: page.nextPageToken ?? null };
  },
});
