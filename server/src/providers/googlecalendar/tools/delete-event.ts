import { z } from 'zod';
import { defineTool } from '../../types.js';
import { eventUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  event_id: field.eventId.describe(
    'Id of the event to delete. A recurring series id deletes every occurrence; an occurrence id (series id + "_" + start) deletes just that one.',
  ),
  calendar_id: field.optionalCalendarId,
});

export const deleteEvent = defineTool({
  name: 'googlecalendar_delete_event',
  description: [
    'Delete (cancel) an event from a calendar. Guests are not emailed.',
    'Deleting a recurring series removes all its occurrences; pass an occurrence id from googlecalendar_list_event_instances to remove one.',
    'To only change the time or guests use googlecalendar_update_event. Deleting an already deleted event fails with not found.',
    'Returns { deleted: true, calendar_id, event_id }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Delete calendar event',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.eventsWrite,
  async run(args, ctx) {
    const calendarId = args.calendar_id ?? field.DEFAULT_CALENDAR_ID;
    await ctx.api.request({ method: 'DELETE', url: eventUrl(calendarId, args.event_id) });
    return { deleted: true, calendar_id: calendarId, event_id: args.event_id };
  },
});
