import { z } from 'zod';

export const sendAsEmailField = z
  .email()
  .describe("The send-as address (the user's own address or an alias), as listed by gmail_list_send_as.");

export const sendAsFields = {
  display_name: z.string().optional().describe('Name shown in the From header for this address, e.g. "Jane Doe".'),
  reply_to_address: z.string().optional().describe('Reply-To address for mail sent from this alias; empty for none.'),
  signature: z
    .string()
    .optional()
    .describe('Signature appended to mail sent from this address, as HTML (plain text is fine too).'),
  is_default: z.boolean().optional().describe('Make this the default From address (only true is accepted by Gmail).'),
};
