import { type LoopbackServer, serveOnLoopback } from '../support/loopback.js';
import type { Stack } from '../support/stack.js';

/**
 * The app's login page of the hand-off sign-in (`SWITCHBOARD_MCP_OAUTH_LOGIN_URL` =
 * `<url>/login`): it knows who is signed in (always `identifier` here), says so through the
 * verify endpoint, and sends the browser back. `stack` is read per request: the server starts
 * before the stack that needs its URL.
 */
export function serveAppLogin(stack: () => Stack, identifier: string): Promise<LoopbackServer> {
  return serveOnLoopback(async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== '/login') return new Response('not found', { status: 404 });
    const verified = await stack().api<{ post_user_verify_redirect_url: string }>(
      'POST',
      '/api/v1/mcp/oauth/user/verify',
      { auth_request_id: url.searchParams.get('auth_request_id'), identifier },
    );
    if (verified.status !== 200) return Response.json(verified.body, { status: 400 });
    return new Response(null, { status: 302, headers: { location: verified.body.post_user_verify_redirect_url } });
  });
}
