import { z } from 'zod';
import { AppError } from '../../../errors.js';
import { defineTool } from '../../types.js';
import { setsState } from '../annotations.js';
import { SETTINGS_BASIC_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

/** Gmail wants epoch milliseconds as a string; callers may give that or an ISO 8601 date-time. */
function toEpochMs(value: string, field: string): string {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return trimmed;
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) {
    throw new AppError(
      'tool_input_invalid',
      `${field} must be an ISO 8601 date-time like 2025-07-01T09:00:00Z or epoch milliseconds`,
    );
  }
  return String(ms);
}

export const updateVacationSettings = defineTool({
  name: 'gmail_update_vacation_settings',
  description: [
    'Turn the vacation responder (out-of-office auto-reply) on or off and set its message, audience and time window.',
    'Fields you leave out keep their current value. Times are ISO 8601 date-times (e.g. "2025-07-01T00:00:00Z") or epoch milliseconds.',
    'Returns the new setting { enableAutoReply, responseSubject?, responseBodyPlainText?, responseBodyHtml?, restrictToContacts?, restrictToDomain?, startTime?, endTime? }.',
  ].join(' '),
  input: z.object({
    enable_auto_reply: z.boolean().describe('true to turn the auto-reply on, false to turn it off.'),
    response_subject: z
      .string()
      .optional()
      .describe('Subject of the auto-reply; empty keeps "Re: <original subject>".'),
    response_body_plain_text: z.string().optional().describe('Auto-reply text (plain text).'),
    response_body_html: z.string().optional().describe('Auto-reply as HTML; used instead of the plain text when set.'),
    restrict_to_contacts: z.boolean().optional().describe("Only reply to people in the user's contacts."),
    restrict_to_domain: z
      .boolean()
      .optional()
      .describe("Only reply to people in the user's own Google Workspace domain."),
    start_time: z
      .string()
      .optional()
      .describe('When the auto-reply starts, e.g. "2025-07-01T00:00:00Z". Starts now when never set.'),
    end_time: z
      .string()
      .optional()
      .describe('When the auto-reply stops, e.g. "2025-07-15T23:59:59Z". Runs until turned off when never set.'),
  }),
  annotations: setsState('Update vacation responder', true),
  scopes: SETTINGS_BASIC_SCOPES,
  async run(input, ctx) {
    const current = (await ctx.api.request<Record<string, unknown>>({ url: gmailUrl('settings/vacation') })) ?? {};
    const changes: Record<string, unknown> = {
      enableAutoReply: input.enable_auto_reply,
      responseSubject: input.response_subject,
      responseBodyPlainText: input.response_body_plain_text,
      responseBodyHtml: input.response_body_html,
      restrictToContacts: input.restrict_to_contacts,
      restrictToDomain: input.restrict_to_domain,
      startTime: input.start_time === undefined ? undefined : toEpochMs(input.start_time, 'start_time'),
      endTime: input.end_time === undefined ? undefined : toEpochMs(input.end_time, 'end_time'),
    };
    const next = { ...current };
    for (const [key, value] of Object.entries(changes)) if (value !== undefined) next[key] = value;
    if (
      typeof next.startTime === 'string' &&
      typeof next.endTime === 'string' &&
      Number(next.endTime) <= Number(next.startTime)
    ) {
      throw new AppError('tool_input_invalid', 'end_time must be after start_time');
    }
    return ctx.api.request({ method: 'PUT', url: gmailUrl('settings/vacation'), body: next });
  },
});
