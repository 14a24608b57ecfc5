import { z } from 'zod';

/**
 * The consent page's query and two forms, as its handlers read them (through mcp-auth's
 * `paramOf`, one field at a time, so the sign-in cookie is checked before the form's token) and
 * as the API reference lists them.
 */
const consentSecret = z
  .string()
  .min(1)
  .max(200)
  .describe('the secret of the consent URL the sign-in sent the browser to; needed with the sign-in cookie');
const csrf = z.string().min(1).describe('the form’s hidden token, bound to the sign-in cookie');

export const consentPageParams = z.object({ consent_secret: consentSecret });

export const consentConnectForm = z.object({
  consent_secret: consentSecret,
  csrf,
  connection: z.string().min(1).describe('the name of the connection to connect'),
});

export const consentDecisionForm = z.object({
  consent_secret: consentSecret,
  csrf,
  decision: z.enum(['allow', 'deny']),
});
