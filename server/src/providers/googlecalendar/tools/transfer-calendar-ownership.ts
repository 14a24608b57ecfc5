import { z } from 'zod';
import { defineTool } from '../../types.js';
import { calendarUrl } from '../calendar-api.js';
import * as field from '../input-fields.js';
import { SCOPES } from '../scopes.js';

const input = z.object({
  calendar_id: field.calendarId.describe("Id of the secondary calendar to hand over (not 'primary')."),
  new_data_owner: z
    .email()
    .describe('Email of the user, in the same Google Workspace organization, who becomes the owner.'),
});

export const transferCalendarOwnership = defineTool({
  name: 'googlecalendar_transfer_calendar_ownership',
  description: [
    'Make another user of the same Google Workspace organization the data owner of a secondary calendar.',
    'Runs with Workspace administrator access (useAdminAccess), so the connected user must be an admin with the Manage Calendars privilege;',
    'it fails for personal Gmail accounts and for primary calendars. To merely share a calendar use googlecalendar_insert_acl_rule.',
    'Returns { transferred: true, calendar_id, new_data_owner }.',
  ].join(' '),
  input,
  annotations: {
    title: 'Transfer calendar ownership',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true,
  },
  scopes: SCOPES.calendarsAdmin,
  async run(args, ctx) {
    await ctx.api.request({
      method: 'POST',
      url: `${calendarUrl(args.calendar_id)}/transferOwnership`,
      // Google accepts only admin access for this method, so true is the only value.
      query: { newDataOwner: args.new_data_owner, useAdminAccess: true },
    });
    return { transferred: true, calendar_id: args.calendar_id, new_data_owner: args.new_data_owner };
  },
});
