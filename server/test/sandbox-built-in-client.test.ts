import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_CLIENT } from '../src/sandbox/oauth/authorization-server.js';
import { type Stack, startStack } from './support/index.js';

describe("the sandbox's built-in OAuth client", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('cannot be pinned to another secret by calling the token endpoint first, so sandbox consents keep working', async () => {
    const pinning = await stack.fetch(`${stack.sandbox.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'anything',
        client_id: BUILT_IN_CLIENT.clientId,
        client_secret: 'pinned-first',
      }),
    });
    expect(pinning.status).toBe(401);

    const connection = await stack.createConnection('MY_GMAIL', 'gmail');
    // The connection names no OAuth app: the server uses the built-in client with the secret the sandbox knows.
    expect(connection.oauth_client_id).toBe(BUILT_IN_CLIENT.clientId);
    const accountId = await stack.connectAccount('MY_GMAIL', 'john-doe');
    const account = await stack.api<{ connected_account: { status: string } }>(
      'GET',
      `/api/v1/connected_accounts/details?id=${accountId}`,
    );
    expect(account.body.connected_account.status).toBe('ACTIVE');
  });
});
