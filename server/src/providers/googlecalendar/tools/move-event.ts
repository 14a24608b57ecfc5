import { z } from 'zod';
import { defineTool } from '../../types.js';
import { eventUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId.describe("Calendar the event is in now ('primary' or a calendar id)."),
  destination_calendar_id: z
    .string()
    .min(1)
    .describe('Calendar to move it to; the user must be able to write to it (see googlecalendar_list_calendars).'),
  event_id: field.eventId,
  send_updates: field.sendUpdatesMode,
});

export const moveEvent = defineTool({
  name: 'googlecalendar_move_event',
  description: [
    'Move an event to another calendar of the user (changing its organizer calendar); the event keeps its id, times and guests.',
    'Only default events can move (not birthdays, focus time, out-of-office or working location).',
    'To change when it happens use googlecalendar_update_event instead.',
    'Returns the moved Google event object.',
  ].join(' '),
  input,
  annotations: {
    title: 'Move event to another calendar',
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsMove,
  async run(args, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: `${eventUrl(args.calendar_id, args.event_id)}/move`,
      query: { destination: args.destination_calendar_id, sendUpdates: args.send_updates },
    });
  },
});
