import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { AppError } from '../../src/errors.js';
import { createProviderClient } from '../../src/execution/provider-client.js';
import { deleteMessage } from '../../src/providers/gmail/tools/delete-message.js';
import { googleCalendar } from '../../src/providers/googlecalendar/provider.js';
import { deleteEvent } from '../../src/providers/googlecalendar/tools/delete-event.js';
import { createSeedConfig } from '../mcp/support.js';
import { FULL_CALENDAR_SCOPE, type Stack, startStack, startToolHarness } from '../support/index.js';

describe('malformed input at the edges is a 4xx with a code, never a 500', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers a huge page_token with 400 invalid_request', async () => {
    for (const offset of ['99999999999999999999999', '9'.repeat(400)]) {
      const token = Buffer.from(`o:${offset}`).toString('base64url');
      const listed = await stack.api('GET', `/api/v1/connections?page_token=${token}`);
      expect(listed.status).toBe(400);
      expect(listed.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });

  it('answers Basic credentials with a broken escape, and garbage, with 401 invalid_client', async () => {
    const token = (authorization: string) =>
      stack.fetch(`${stack.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    const broken = await token(`Basic ${Buffer.from('%E0%A4%A:secret%').toString('base64')}`);
    expect(broken.status).toBe(401);
    expect(await broken.json()).toMatchObject({ error: 'invalid_client' });
    const garbage = await token('Basic ???not-base64');
    expect(garbage.status).toBe(401);
    expect(await garbage.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('keeps the config name out of the public protected-resource metadata', async () => {
    const config = await createSeedConfig(stack, 'secret-project-name');
    const response = await stack.fetch(`${stack.url}/.well-known/oauth-protected-resource/mcp/c/${config.id}`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('secret-project-name');
    expect(JSON.parse(text)).toMatchObject({ resource_name: 'Switchboard MCP server' });
  });

  it('sends no HSTS header when the public URL is http', async () => {
    const response = await stack.app.request('/healthz');
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('HSTS behind an https public URL', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { SWITCHBOARD_PUBLIC_URL: 'https://switchboard.example.com', SWITCHBOARD_SANDBOX: 'true' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('sends none for an https URL on this machine (a self-signed https://localhost)', async () => {
    const local = await startStack({ env: { SWITCHBOARD_PUBLIC_URL: 'https://localhost:3443' } });
    try {
      const response = await local.app.request('/healthz');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await local.close();
    }
  });

  it('sends strict-transport-security on every answer, errors included', async () => {
    for (const path of ['/healthz', '/api/v1/connections', '/no-such-route', '/dashboard/sign-in']) {
      const response = await stack.app.request(path);
      expect(response.headers.get('strict-transport-security'), path).toBe('max-age=31536000; includeSubDomains');
    }
  });
});

describe('ids never shorten a provider URL', () => {
  it('refuses event_id ".." with tool_input_invalid, and nothing reaches the provider', async () => {
    const harness = await startToolHarness({ provider: googleCalendar, scopes: [FULL_CALENDAR_SCOPE] });
    try {
      for (const eventId of ['..', '.']) {
        const failure = await harness.run(deleteEvent, { calendar_id: 'primary', event_id: eventId }).catch((e) => e);
        expect(failure).toBeInstanceOf(AppError);
        expect((failure as AppError).code).toBe('tool_input_invalid');
      }
      const failure = await harness.run(deleteEvent, { calendar_id: '..', event_id: 'abc' }).catch((e) => e);
      expect((failure as AppError).code).toBe('tool_input_invalid');
      expect(harness.requests).toEqual([]);
    } finally {
      await harness.close();
    }
  });

  it('refuses a Gmail message id ".." the same way', async () => {
    const harness = await startToolHarness({ provider: { apiOrigins: ['https://gmail.googleapis.com'] }, scopes: [] });
    try {
      const failure = await harness.run(deleteMessage, { message_id: '..' }).catch((e) => e);
      expect((failure as AppError).code).toBe('tool_input_invalid');
      expect(harness.requests).toEqual([]);
    } finally {
      await harness.close();
    }
  });

  it('has the provider client refuse a built URL whose path the parser would change', async () => {
    const sent: string[] = [];
    const client = createProviderClient({
      fetch: async (url) => {
        sent.push(String(url));
        return new Response('{}', { headers: { 'content-type': 'application/json' } });
      },
      apiOrigins: ['https://www.googleapis.com'],
      getAccessToken: async () => 'token',
      timeoutMs: 1000,
      clock: systemClock,
    });
    for (const path of ['events/..', 'events/%2E%2e', 'events/./x', 'events\\..\\x']) {
      const failure = await client
        .request({ method: 'DELETE', url: `https://www.googleapis.com/calendar/v3/calendars/primary/${path}` })
        .catch((e) => e);
      expect((failure as AppError).code, path).toBe('tool_input_invalid');
    }
    expect(sent).toEqual([]);
    await client.request({ url: 'https://www.googleapis.com/calendar/v3/calendars/primary/events/a..b' });
    expect(sent).toHaveLength(1);
  });
});
