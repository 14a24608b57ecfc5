import { type Switchboard, SwitchboardError } from '@switchboard/sdk';

export interface UserVerifyHandlerOptions {
  switchboard: Switchboard;
  /**
   * Who is signed in to your app for this request (your session cookie), or undefined.
   * `state` is what you passed with the link, so you can check it is the one you issued.
   */
  signedInUser: (request: Request, state: string | null) => string | undefined | Promise<string | undefined>;
  /** Told each identifier the route verified. */
  onVerified?: (identifier: string) => void;
}

/**
 * The one route an app adds for user verification. Switchboard sends the browser here after
 * the consent, with `auth_request_id` (and your `state`); only the app knows who is signed in,
 * so it confirms that user to Switchboard, which activates the account only when that is the
 * account's own identifier, then sends the browser on to Switchboard's success page.
 * A web-standard handler: mount it in Hono with `app.get('/switchboard/verify', (c) => handler(c.req.raw))`.
 */
export function userVerifyHandler(options: UserVerifyHandlerOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const query = new URL(request.url).searchParams;
    const authRequestId = query.get('auth_request_id');
    if (!authRequestId) return page(400, 'This page is reached from a Switchboard consent (auth_request_id missing).');
    const identifier = await options.signedInUser(request, query.get('state'));
    // A real app would send the browser to its sign-in page and back here.
    if (!identifier) return page(401, 'Sign in to the app, then connect your account again.');
    try {
      const verified = await options.switchboard.connectedAccounts.verifyUser({
        auth_request_id: authRequestId,
        identifier,
      });
      options.onVerified?.(identifier);
      return Response.redirect(verified.post_user_verify_redirect_url, 302);
    } catch (error) {
      if (!(error instanceof SwitchboardError)) throw error;
      if (error.status === 0 || error.status >= 500)
        return page(502, `Switchboard could not be reached: ${error.message}`);
      // user_verification_mismatch: someone else's consent; _used/_expired/_invalid: start over.
      return page(403, `Switchboard did not verify this account (${error.code}): ${error.message}`);
    }
  };
}

function page(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
