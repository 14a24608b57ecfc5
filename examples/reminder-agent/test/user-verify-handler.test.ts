import { type Stack, startStack } from '@switchboard/server/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Switchboard, userVerifyHandler } from '../src/index.js';

const VERIFY_ROUTE = 'https://app.example.com/switchboard/verify';

describe('the one-route user verify handler', () => {
  let stack: Stack;
  let switchboard: Switchboard;
  let signedIn: string | undefined;
  const verified: string[] = [];
  let handler: (request: Request) => Promise<Response>;

  beforeAll(async () => {
    stack = await startStack();
    switchboard = new Switchboard({
      url: stack.url,
      clientId: stack.admin.client_id,
      clientSecret: stack.admin.client_secret,
      fetch: stack.fetch,
    });
    await switchboard.connections.create({ name: 'MY_GMAIL', provider: 'gmail' });
    handler = userVerifyHandler({
      switchboard,
      signedInUser: () => signedIn,
      onVerified: (identifier) => verified.push(identifier),
    });
  });
  afterAll(() => stack?.close());

  /** Consents through a link that ends at the app's verify route; returns the URL the browser lands on. */
  const consentToVerifyRoute = async (identifier: string) => {
    const { link } = await switchboard.connectedAccounts.getAuthorizationLink(
      { connector: 'MY_GMAIL', identifier },
      { user_verify_url: VERIFY_ROUTE, state: 'from-the-app' },
    );
    const callback = await stack.consent(link);
    expect(callback.status).toBe(302);
    return callback.headers.get('location') ?? '';
  };
  const status = async (identifier: string) =>
    (await switchboard.connectedAccounts.get({ connector: 'MY_GMAIL', identifier })).status;

  it('confirms the signed-in user and sends the browser to the success page', async () => {
    signedIn = 'john-doe';
    const landing = await consentToVerifyRoute('john-doe');
    expect(new URL(landing).searchParams.get('state')).toBe('from-the-app');
    const response = await handler(new Request(landing));
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${stack.url}/connect/verified`);
    expect(verified).toEqual(['john-doe']);
    expect(await status('john-doe')).toBe('ACTIVE');
  });

  it('refuses someone else’s consent, and asks for a sign-in when nobody is signed in', async () => {
    signedIn = undefined;
    const landing = await consentToVerifyRoute('victim');
    expect((await handler(new Request(landing))).status).toBe(401);

    signedIn = 'mallory';
    const refused = await handler(new Request(landing));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('user_verification_mismatch');
    expect(await status('victim')).toBe('PENDING_VERIFICATION');
    expect((await handler(new Request(VERIFY_ROUTE))).status).toBe(400);
  });
});
