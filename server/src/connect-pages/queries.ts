import { z } from 'zod';

/**
 * The query fields of the connect pages, as their handlers validate them and the API reference
 * lists them. Objects stay open: providers add their own fields to the callback (Google's
 * `authuser`, `prompt`, `hd`), which the OAuth client reads or ignores.
 */
export const connectQuery = z.object({
  login_hint: z.string().max(320).optional().describe('the email the provider should suggest'),
});

export const callbackQuery = z.object({
  code: z.string().optional().describe('the authorization code'),
  state: z.string().optional().describe('the state Switchboard sent'),
  error: z.string().optional().describe('set when the user declined or the provider refused'),
  error_description: z.string().optional(),
  scope: z.string().optional().describe('the scopes granted, when the provider says'),
  iss: z.string().optional().describe('the issuer (RFC 9207), when the provider sends it'),
});
