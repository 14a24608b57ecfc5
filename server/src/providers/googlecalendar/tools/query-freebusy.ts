import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { FREEBUSY_URL } from '../calendar-api.js';
import { assertTimeZone, queryTime } from '../event-time.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_ids: z
    .array(z.string().min(1))
    .min(1)
    .max(50)
    .describe(
      "Calendars to check (at most 50): 'primary', calendar ids, or the email addresses of colleagues whose calendars the user may see.",
    ),
  time_max: z
    .string()
    .min(1)
    .describe('End of the window, RFC 3339, e.g. 2026-03-09T18:00:00-05:00 (without offset it is read in timezone).'),
  time_min: z
    .string()
    .min(1)
    .describe('Start of the window, RFC 3339, e.g. 2026-03-09T09:00:00-05:00 (without offset it is read in timezone).'),
  timezone: field.ianaTimeZone(
    'the zone the busy periods are written in (default UTC); also reads time_min/time_max written without offset.',
  ),
});

export const queryFreebusy = defineTool({
  name: 'googlecalendar_query_freebusy',
  description: [
    'Find when people or calendars are busy in a time window, to pick a meeting slot: answers only busy periods, never event details,',
    "so it works for colleagues' calendars the user may only see as free/busy. For event details use googlecalendar_list_events.",
    "Returns Google's answer { timeMin, timeMax, calendars: { <id>: { busy: [{ start, end }], errors? } } }; any time not listed as busy is free.",
  ].join(' '),
  input,
  annotations: {
    title: 'Query free/busy',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.freebusy,
  async run(args, ctx) {
    const timeZone = args.timezone === undefined ? undefined : assertTimeZone('timezone', args.timezone);
    const timeMin = queryTime('time_min', args.time_min, timeZone);
    const timeMax = queryTime('time_max', args.time_max, timeZone);
    if (Date.parse(timeMax) <= Date.parse(timeMin)) {
      throw new AppError('tool_input_invalid', 'time_max must be after time_min', { details: { field: 'time_max' } });
    }
    return ctx.api.request({
      method: 'POST',
      url: FREEBUSY_URL,
      body: { timeMin, timeMax, timeZone, items: [...new Set(args.calendar_ids)].map((id) => ({ id })) },
    });
  },
});
