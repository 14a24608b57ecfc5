import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/database.js';
import { type Stack, startStack } from '../support/stack.js';
import { type ApiConfig, mintToken } from './support.js';

const MODERN = '2026-07-28';

describe.each(ENGINES)('session tokens are bound to their accounts and revocable (%s)', (engine) => {
  let stack: Stack;
  let config: ApiConfig;
  beforeAll(async () => {
    stack = await startStack({ engine });
    await stack.createConnection('MY_GMAIL', 'gmail');
    const created = await stack.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
      name: 'bound',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    config = created.body.config;
  });
  afterAll(() => stack?.close());

  /** A stateless tools/list at the config's URL with the token: the HTTP status answers. */
  async function listWith(token: string): Promise<number> {
    const response = await stack.fetch(`${stack.url}/mcp/c/${config.id}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    await response.text();
    return response.status;
  }

  async function tokenFor(identifier: string): Promise<string> {
    const minted = await mintToken(stack, config.id, identifier);
    expect(minted.status).toBe(200);
    return minted.body.token;
  }

  it('rejects a token whose account was deleted and connected again (a new account id)', async () => {
    const first = await stack.connectAccount('MY_GMAIL', 'deleted-user');
    const token = await tokenFor('deleted-user');
    expect(await listWith(token)).toBe(200);
    expect((await stack.api('DELETE', `/api/v1/connected_accounts/${first}`)).status).toBe(200);
    expect(await listWith(token)).toBe(401);
    const second = await stack.connectAccount('MY_GMAIL', 'deleted-user');
    expect(second).not.toBe(first);
    expect(await listWith(token)).toBe(401);
    expect(await listWith(await tokenFor('deleted-user'))).toBe(200);
  });

  it('rejects a token while its account is disconnected', async () => {
    await stack.connectAccount('MY_GMAIL', 'disconnected-user');
    const token = await tokenFor('disconnected-user');
    expect(await listWith(token)).toBe(200);
    const done = await stack.api('POST', '/api/v1/connected_accounts:disconnect', {
      connector: 'MY_GMAIL',
      identifier: 'disconnected-user',
    });
    expect(done.status).toBe(200);
    expect(await listWith(token)).toBe(401);
  });

  it('rejects a token whose account was re-bound to another provider account', async () => {
    await stack.connectAccount('MY_GMAIL', 'rebound-user', 'john.doe@example.com');
    const token = await tokenFor('rebound-user');
    expect(await listWith(token)).toBe(200);
    // Writing the account's tokens by API, as a backend that brings its own grant does, keeps
    // the id; what the token checks is who consented.
    await stack.db.db
      .updateTable('connected_accounts')
      .set({ provider_account: 'someone.else@example.com' })
      .where('identifier', '=', 'rebound-user')
      .execute();
    await stack.services.changes.write(['accounts'], async () => {});
    expect(await listWith(token)).toBe(401);
  });

  it("revokes an identifier's tokens at a config: older tokens die, newer ones and other users' work", async () => {
    await stack.connectAccount('MY_GMAIL', 'revoked-user');
    await stack.connectAccount('MY_GMAIL', 'other-user');
    const old = await tokenFor('revoked-user');
    const others = await tokenFor('other-user');
    expect(await listWith(old)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const revoked = await stack.api('POST', `/api/v1/mcp/configs/${config.id}/tokens:revoke`, {
      identifier: 'revoked-user',
    });
    expect(revoked.status).toBe(200);
    expect(await listWith(old)).toBe(401);
    expect(await listWith(others)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await listWith(await tokenFor('revoked-user'))).toBe(200);
    expect(await listWith(old)).toBe(401);
  });

  it('still checks the accounts of a token minted before ca_who existed (ca_ids only)', async () => {
    const account = await stack.connectAccount('MY_GMAIL', 'legacy-user');
    const legacy = await stack.services.signingKeys.sign(
      { sub: 'legacy-user', mcp_cfg: config.id, ca_ids: [account] },
      { audience: config.mcp_server_url, issuer: stack.url, expiresInSeconds: 600 },
    );
    expect(await listWith(legacy)).toBe(200);
    expect((await stack.api('DELETE', `/api/v1/connected_accounts/${account}`)).status).toBe(200);
    expect(await listWith(legacy)).toBe(401);
  });

  describe('a token made for another config of the same user', () => {
    let other: ApiConfig;
    let claims: ReturnType<typeof decodeJwt>;
    beforeAll(async () => {
      const created = await stack.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
        name: 'bound-too',
        connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
      });
      other = created.body.config;
      await stack.connectAccount('MY_GMAIL', 'two-configs-user');
      // The same account is mapped by both configs, so only the audience and mcp_cfg tell them apart.
      claims = decodeJwt(await tokenFor('two-configs-user'));
    });

    const forge = (mcpCfg: string, audience: string) =>
      stack.services.signingKeys.sign(
        { sub: claims.sub, mcp_cfg: mcpCfg, ca_ids: claims.ca_ids, ca_who: claims.ca_who, mint_ms: Date.now() },
        { audience, issuer: stack.url, expiresInSeconds: 600 },
      );

    it('accepts the same claims signed for this config (the forgeries below differ in one claim only)', async () => {
      expect(await listWith(await forge(config.id, config.mcp_server_url))).toBe(200);
    });

    it('rejects a token whose audience is the other config although mcp_cfg names this one', async () => {
      const token = await forge(config.id, other.mcp_server_url);
      expect(await listWith(token)).toBe(401);
      expect(await stack.services.sessionTokens.verify(token, config.id)).toBeUndefined();
    });

    it('rejects a token whose mcp_cfg is the other config although the audience is this one', async () => {
      const token = await forge(other.id, config.mcp_server_url);
      expect(await listWith(token)).toBe(401);
      expect(await stack.services.sessionTokens.verify(token, config.id)).toBeUndefined();
    });
  });

  it('answers 404 when revoking at an unknown config and 400 without an identifier', async () => {
    expect((await stack.api('POST', '/api/v1/mcp/configs/cfg_nope/tokens:revoke', { identifier: 'x' })).status).toBe(
      404,
    );
    expect((await stack.api('POST', `/api/v1/mcp/configs/${config.id}/tokens:revoke`, {})).status).toBe(400);
  });
});
