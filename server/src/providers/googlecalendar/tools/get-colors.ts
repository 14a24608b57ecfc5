import { z } from 'zod';
import { defineTool } from '../../types.js';
import { COLORS_URL } from '../calendar-api.js';
import { SCOPES } from '../scopes.js';

const input = z.object({});

export const getColors = defineTool({
  name: 'googlecalendar_get_colors',
  description: [
    'Get the palette of Google Calendar: which color ids exist for calendars and for events, with their hex colors.',
    'Use it to pick a color_id for googlecalendar_add_calendar_to_list or googlecalendar_update_calendar_list_entry.',
    'Returns Google\'s colors object { calendar: { "1": { background, foreground }, … }, event: { … }, updated }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Get color palette',
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.colors,
  async run(_args, ctx) {
    return ctx.api.request({ url: COLORS_URL });
  },
});
