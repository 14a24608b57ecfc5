import { z } from 'zod';
import { defineTool } from '../../types.js';
import { SETTINGS_URL } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  max_results: field.maxResults(250, 100),
  page_token: field.pageToken,
  sync_token: z
    .string()
    .min(1)
    .optional()
    .describe('next_sync_token of an earlier full listing, to get only the settings changed since.'),
});

interface GoogleSettings {
  items?: unknown[];
  nextPageToken?: string;
  nextSyncToken?: string;
}

export const listSettings = defineTool({
  name: 'googlecalendar_list_settings',
  description: [
    "List all of the user's Google Calendar settings (time zone, locale, week start, 24-hour time, default event length, …).",
    'For one known setting use googlecalendar_get_setting.',
    'Returns { settings: [{ id, value }], next_page_token (null on the last page), next_sync_token }.',
  ].join(' '),
  input,
  annotations: {
    title: 'List calendar settings',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.settings,
  async run(args, ctx) {
    const page = await ctx.api.request<GoogleSettings>({
      url: SETTINGS_URL,
      query: { maxResults: args.max_results ?? 100, pageToken: args.page_token, syncToken: args.sync_token },
    });
    return {
      settings: page.items ?? [],
      next_page_token: page.nextPageToken ?? null,
      next_sync_token: page.nextSyncToken ?? null,
    };
  },
});
