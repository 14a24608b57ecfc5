import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

describe('the OAuth connect flow', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await stack.createConnection('MY_GMAIL', 'gmail');
  });
  afterAll(() => stack?.close());

  it('takes an authentication link through sandbox consent to an ACTIVE account with encrypted tokens', async () => {
    const link = await stack.api<{ link: string; expiry: string }>('POST', '/api/v1/connected_accounts/magic_link', {
      connector: 'MY_GMAIL',
      identifier: 'john-doe',
    });
    expect(link.status).toBe(200);
    expect(link.body.link).toMatch(new RegExp(`^${stack.url}/connect/`));

    const pending = await stack.api<{ connected_account: { status: string } }>(
      'GET',
      '/api/v1/connected_accounts/details?connector=MY_GMAIL&identifier=john-doe',
    );
    expect(pending.body.connected_account.status).toBe('PENDING_AUTH');

    const page = await stack.consent(link.body.link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Gmail is connected');

    const active = await stack.api<{ connected_account: { status: string; authorization_details: { oauth_token: { scopes: string[]; domain: string } } } }>(
      'GET',
      '/api/v1/connected_accounts/details?connector=MY_GMAIL&identifier=john-doe',
    );
    expect(active.body.connected_account.status).toBe('ACTIVE');
    expect(active.body.connected_account.authorization_details.oauth_token.domain).toBe('john.doe@example.com');
    expect(JSON.stringify(active.body)).not.toMatch(/ya29|1\/\//);

    const row = await stack.db.db.selectFrom('connected_accounts').selectAll().executeTakeFirstOrThrow();
    expect(row.tokens_enc).toMatch(/^v1\./);
    expect(row.tokens_enc).not.toContain('ya29');
  });
});
