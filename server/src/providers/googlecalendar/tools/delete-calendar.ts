import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { calendarUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId.describe("Id of a secondary calendar the user owns (not 'primary')."),
});

export const deleteCalendar = defineTool({
  name: 'googlecalendar_delete_calendar',
  description: [
    'Permanently delete a secondary calendar the user owns, with all its events, for everyone it is shared with.',
    "The primary calendar cannot be deleted (googlecalendar_clear_calendar empties it). To only stop seeing someone else's calendar use googlecalendar_remove_calendar_from_list.",
    'Returns { deleted: true, calendar_id }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Delete calendar',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarsWrite,
  async run(args, ctx) {
    if (args.calendar_id === 'primary') {
      throw new AppError(
        'tool_input_invalid',
        'the primary calendar cannot be deleted; use googlecalendar_clear_calendar to delete its events',
        { details: { field: 'calendar_id' } },
      );
    }
    await ctx.api.request({ method: 'DELETE', url: calendarUrl(args.calendar_id) });
    return { deleted: true, calendar_id: args.calendar_id };
  },
});
