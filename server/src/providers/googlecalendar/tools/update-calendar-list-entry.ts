import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { calendarListEntryUrl } from '../calendar-api.js';
import { definedOnly } from '../event-fields.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId,
  color_id: field.calendarColorId,
  hidden: z.boolean().optional().describe('true hides the calendar from the calendar view (it stays in the list).'),
  selected: z.boolean().optional().describe('Whether its events show in the calendar view.'),
  summary_override: z
    .string()
    .max(255)
    .optional()
    .describe('A name for the calendar that only this user sees; "" removes the override.'),
});

export const updateCalendarListEntry = defineTool({
  name: 'googlecalendar_update_calendar_list_entry',
  description: [
    'Change how one calendar appears for this user only: color, hidden, selected, or a personal name (summary_override). Others are unaffected.',
    'To rename the calendar for everyone use googlecalendar_update_calendar.',
    'Returns the updated Google calendarListEntry.',
  ].join(' '),
  input,
  annotations: {
    title: 'Update calendar list entry',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarListWrite,
  async run(args, ctx) {
    const body = definedOnly({
      colorId: args.color_id,
      hidden: args.hidden,
      selected: args.selected,
      summaryOverride: args.summary_override,
    });
    if (Object.keys(body).length === 0) {
      throw new AppError(
        'tool_input_invalid',
        'nothing to change: give color_id, hidden, selected or summary_override',
      );
    }
    return ctx.api.request({ method: 'PATCH', url: calendarListEntryUrl(args.calendar_id), body });
  },
});
