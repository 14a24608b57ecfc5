import { z } from 'zod';

/**
 * The consent page's two forms, as its handlers read them (through mcp-auth's `paramOf`, one
 * field at a time, so the sign-in cookie is checked before the form's token) and as the API
 * reference lists them.
 */
const csrf = z.string().min(1).describe('the form’s hidden token, bound to the sign-in cookie');

export const consentConnectForm = z.object({
  csrf,
  connection: z.string().min(1).describe('the name of the connection to connect'),
});

export const consentDecisionForm = z.object({ csrf, decision: z.enum(['allow', 'deny']) });
