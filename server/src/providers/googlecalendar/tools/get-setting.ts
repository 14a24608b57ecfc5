import { z } from 'zod';
import { pathSegment } from '../../path-segment.js';
import { defineTool } from '../../types.js';
import { SETTINGS_URL } from '../calendar-api.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  setting: z
    .string()
    .min(1)
    .describe(
      'Setting id: e.g. "timezone", "locale", "weekStart" (0 = Sunday), "format24HourTime", "dateFieldOrder", "defaultEventLength" (minutes), "hideWeekends", "autoAddHangouts".',
    ),
});

export const getSetting = defineTool({
  name: 'googlecalendar_get_setting',
  description: [
    'Read one of the user\'s Google Calendar settings, most usefully "timezone" (the user\'s time zone, to interpret "tomorrow at 9")',
    'or "defaultEventLength". To see them all use googlecalendar_list_settings.',
    "Returns Google's setting { id, value } (the value is always a string).",
  ].join(' '),
  input,
  annotations: {
    title: 'Get calendar setting',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.settings,
  async run(args, ctx) {
    return ctx.api.request({ url: `${SETTINGS_URL}/${pathSegment(args.setting)}` });
  },
});
