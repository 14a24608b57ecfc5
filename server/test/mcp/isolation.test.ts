import { randomBytes } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import {
  type ApiConfig,
  type ApiInstance,
  connectV2,
  createSeedConfig,
  ensureInstance,
  mintToken,
  rawPost,
  readRpc,
} from './support.js';

const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

function textOf(result: unknown): string {
  return (result as CallToolResult).content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

describe('isolation between users, configs and URLs', () => {
  let stack: Stack;
  let config: ApiConfig;
  let other: ApiConfig;
  let john: ApiInstance;
  let jane: ApiInstance;

  beforeAll(async () => {
    stack = await startStack();
    config = await createSeedConfig(stack);
    other = (
      await stack.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
        name: 'calendar-only',
        connection_tool_mappings: [{ connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] }],
      })
    ).body.config;
    await stack.connectAccount('MY_GMAIL', 'jane-doe', 'jane.doe@example.com');
    await stack.connectAccount('MY_CALENDAR', 'jane-doe', 'jane.doe@example.com');
    john = await ensureInstance(stack, 'reminder-manager', 'john-doe');
    jane = await ensureInstance(stack, 'reminder-manager', 'jane-doe');
  });
  afterAll(() => stack?.close());

  it("john-doe's URL never reaches jane-doe's accounts", async () => {
    const asJohn = await connectV2(stack, john.url);
    const refused = await asJohn.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('john-doe has not connected MY_GMAIL');
    await asJohn.close();

    const asJane = await connectV2(stack, jane.url);
    const ok = await asJane.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } });
    expect(ok.isError).toBeFalsy();
    await asJane.close();
  });

  it("arguments cannot name another user: a call that names jane-doe still reads the caller's own mailbox", async () => {
    // jim-doe has his own mailbox (john.doe@example.com's), so a call that named another user
    // and were obeyed would show jane-doe's mail instead of his.
    await stack.connectAccount('MY_GMAIL', 'jim-doe', 'john.doe@example.com');
    const jim = await ensureInstance(stack, 'reminder-manager', 'jim-doe');
    const asJim = await connectV2(stack, jim.url);
    const asJane = await connectV2(stack, jane.url);
    const own = textOf(await asJim.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } }));
    const janes = textOf(await asJane.callTool({ name: 'gmail_fetch_mails', arguments: { max_results: 1 } }));
    expect(own).not.toBe(janes);
    const smuggled = await asJim.callTool({
      name: 'gmail_fetch_mails',
      arguments: { max_results: 1, identifier: 'jane-doe', user_id: 'jane-doe', connected_account_id: 'x' },
    });
    // Unknown fields are dropped by the tool's schema (not refused): the call is jim-doe's own.
    expect(smuggled.isError).toBeFalsy();
    expect(textOf(smuggled)).toBe(own);
    await asJim.close();
    await asJane.close();
  });

  it('a token minted for john-doe acts as john-doe only, and minting needs ACTIVE accounts', async () => {
    const refused = await mintToken(stack, config.id, 'john-doe');
    expect(refused.status).toBe(412);
    expect(JSON.stringify(refused.body)).toContain('MY_GMAIL');

    const minted = await mintToken(stack, config.id, 'jane-doe', '120s');
    expect(minted.status).toBe(200);
    const claims = decodeJwt(minted.body.token);
    expect(claims).toMatchObject({ sub: 'jane-doe', aud: config.mcp_server_url, iss: stack.url, mcp_cfg: config.id });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(120);
    expect(Date.parse(minted.body.expires_at)).toBe((claims.exp ?? 0) * 1000);

    for (const expiry of ['59s', '86401s', 'soon', '3600']) {
      expect((await mintToken(stack, config.id, 'jane-doe', expiry)).status, expiry).toBe(400);
    }
    const jwks = (await (await stack.fetch(`${stack.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.length).toBeGreaterThan(0);
  });

  it("a token minted for config A is refused by config B's URL, with the RFC 9728 challenge", async () => {
    const minted = await mintToken(stack, config.id, 'jane-doe');
    const atOther = await rawPost(stack, other.mcp_server_url, listTools, {
      authorization: `Bearer ${minted.body.token}`,
    });
    expect(atOther.status).toBe(401);
    const metadataUrl = `${stack.url}/.well-known/oauth-protected-resource/mcp/c/${other.id}`;
    expect(atOther.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${metadataUrl}", error="invalid_token"`,
    );
    const missing = await rawPost(stack, other.mcp_server_url, listTools);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);
    const metadata = (await (await stack.fetch(metadataUrl)).json()) as { resource: string };
    expect(metadata.resource).toBe(other.mcp_server_url);

    const atOwn = await rawPost(stack, config.mcp_server_url, listTools, {
      authorization: `Bearer ${minted.body.token}`,
    });
    expect(atOwn.status).toBe(200);
    // A management access token is not a session token.
    const management = await rawPost(stack, config.mcp_server_url, listTools, {
      authorization: `Bearer ${await stack.token()}`,
    });
    expect(management.status).toBe(401);
  });

  it('refuses fuzzed URLs and tokens with one identical 404 or 401', async () => {
    const johnSecret = john.url.split('/mcp/i/')[1] ?? '';
    const janeSecret = jane.url.split('/mcp/i/')[1] ?? '';
    const reference = await rawPost(stack, `${stack.url}/mcp/i/${randomBytes(32).toString('base64url')}`, listTools);
    expect(reference.status).toBe(404);
    const referenceBody = await reference.text();
    const candidates = [
      johnSecret.slice(0, -1),
      johnSecret.slice(1),
      `${johnSecret}x`,
      johnSecret.toUpperCase(),
      `${johnSecret.slice(0, 20)}${janeSecret.slice(20)}`,
      encodeURIComponent(`${johnSecret} `),
      '',
      'x',
      ...Array.from({ length: 40 }, () => randomBytes(1 + Math.floor(Math.random() * 48)).toString('base64url')),
    ].filter((s) => s !== johnSecret && s !== janeSecret);
    for (const candidate of candidates) {
      const response = await rawPost(stack, `${stack.url}/mcp/i/${candidate}`, listTools);
      expect(response.status, candidate).toBe(404);
      if (candidate) expect(await response.text()).toBe(referenceBody);
    }

    const good = (await mintToken(stack, config.id, 'jane-doe')).body.token;
    const [header, payload, signature] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(good), sub: 'john-doe' })).toString('base64url');
    const tokens = [
      good.slice(0, -2),
      `${header}.${forgedPayload}.${signature}`,
      `${header}.${payload}.`,
      randomBytes(40).toString('base64url'),
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
    ];
    for (const token of tokens) {
      const response = await rawPost(stack, config.mcp_server_url, listTools, { authorization: `Bearer ${token}` });
      expect(response.status, token).toBe(401);
    }
  });

  it('an expired session token is refused', async () => {
    const minted = await mintToken(stack, config.id, 'jane-doe', '60s');
    const realNow = Date.now;
    const clock = stack.services.clock as { now: () => number };
    const original = clock.now;
    clock.now = () => realNow() + 120_000;
    try {
      const response = await rawPost(stack, config.mcp_server_url, listTools, {
        authorization: `Bearer ${minted.body.token}`,
      });
      expect(response.status).toBe(401);
    } finally {
      clock.now = original;
    }
  });

  it('serves only the mapped tools: an unmapped tool is unknown', async () => {
    const response = await rawPost(
      stack,
      jane.url,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'gmail_send_message', arguments: {} },
      }),
    );
    const rpc = await readRpc(response);
    expect(rpc.error).toMatchObject({ code: -32602 });
    expect(rpc.id).toBe(7);
  });
});
