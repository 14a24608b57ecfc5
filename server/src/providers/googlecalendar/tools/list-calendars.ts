import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { CALENDAR_LIST_URL } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  max_results: field.maxResults(250, 100),
  min_access_role: z
    .enum(['freeBusyReader', 'reader', 'writer', 'owner'])
    .optional()
    .describe(
      "Only calendars where the user has at least this access, e.g. 'writer' for calendars they can add events to.",
    ),
  page_token: field.pageToken,
  show_deleted: z.boolean().optional().describe('Also list calendars removed from the list (default false).'),
  show_hidden: z.boolean().optional().describe('Also list calendars the user hid from view (default false).'),
  sync_token: z
    .string()
    .min(1)
    .optional()
    .describe(
      'next_sync_token of an earlier full listing, to get only what changed since; cannot be combined with min_access_role.',
    ),
});

interface GoogleCalendarList {
  items?: unknown[];
  nextPageToken?: string;
  nextSyncToken?: string;
}

export const listCalendars = defineTool({
  name: 'googlecalendar_list_calendars',
  description: [
    "List the calendars in the user's calendar list: their own, shared with them, and subscribed ones.",
    "Use it to find a calendar_id for the other tools, or to see which calendars the user can write to (min_access_role 'writer').",
    'Returns { calendars: Google calendarList entries (id, summary, summaryOverride, timeZone, accessRole, primary, backgroundColor, …),',
    'next_page_token (null on the last page), next_sync_token (on the last page) }.',
  ].join(' '),
  input,
  annotations: {
    title: 'List calendars',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarListList,
  async run(args, ctx) {
    if (args.sync_token !== undefined && args.min_access_role !== undefined) {
      throw new AppError('tool_input_invalid', 'sync_token cannot be combined with min_access_role', {
        details: { field: 'min_access_role' },
      });
    }
    const page = await ctx.api.request<GoogleCalendarList>({
      url: CALENDAR_LIST_URL,
      query: {
        maxResults: args.max_results ?? 100,
        minAccessRole: args.min_access_role,
        pageToken: args.page_token,
        showDeleted: args.show_deleted,
        showHidden: args.show_hidden,
        syncToken: args.sync_token,
      },
    });
    return {
      calendars: page.items ?? [],
      next_page_token: page.nextPageToken ?? null,
      next_sync_token: page.nextSyncToken ?? null,
    };
  },
});
