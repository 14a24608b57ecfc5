import type { CallToolResult } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { type AuthStateEntry, connectV2, createSeedConfig, ensureInstance, SEED_TOOLS } from './support.js';

function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  return content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

describe('the seed workflow, end to end', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('takes john-doe from a new config to a calendar event created over MCP', async () => {
    // 1–2. connections and the reminder-manager config
    const config = await createSeedConfig(stack);
    // 3. john-doe's own MCP URL
    const instance = await ensureInstance(stack, 'reminder-manager', 'john-doe');
    expect(instance.url).toMatch(new RegExp(`^${stack.url}/mcp/i/`));

    // Before consent, a tool call is a readable error that carries the link.
    const early = await connectV2(stack, instance.url);
    const refused = (await early.callTool({ name: 'gmail_fetch_mails', arguments: {} })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(new RegExp(`john-doe has not connected MY_GMAIL.*${stack.url}/connect/`));
    await early.close();

    // 4. auth state with links, then consent for both connections
    const state = await stack.api<{ connections: AuthStateEntry[] }>(
      'POST',
      `/api/v1/mcp/instances/${instance.id}:get_auth_state`,
      {
        include_auth_links: true,
      },
    );
    expect(state.body.connections.map((c) => [c.connection_name, c.provider, c.connected_account_status])).toEqual([
      ['MY_GMAIL', 'gmail', 'PENDING_AUTH'],
      ['MY_CALENDAR', 'googlecalendar', 'PENDING_AUTH'],
    ]);
    for (const entry of state.body.connections) {
      const page = await stack.consent(entry.authentication_link, { email: 'john.doe@example.com' });
      expect(page.status).toBe(200);
    }
    const ready = await stack.api<{ connections: AuthStateEntry[] }>(
      'POST',
      `/api/v1/mcp/instances/${instance.id}:get_auth_state`,
      {
        include_auth_links: false,
      },
    );
    expect(ready.body.connections.map((c) => c.connected_account_status)).toEqual(['ACTIVE', 'ACTIVE']);

    // 5. an MCP client lists exactly the mapped tools and calls them
    const client = await connectV2(stack, instance.url);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(SEED_TOOLS);
    const mails = (await client.callTool({
      name: 'gmail_fetch_mails',
      arguments: { max_results: 1 },
    })) as CallToolResult;
    expect(mails.isError).toBeFalsy();
    const latest = JSON.parse(textOf(mails)) as { messages: { id: string; snippet?: string }[] };
    expect(latest.messages.length).toBe(1);

    const start = new Date(Date.now() + 15 * 60_000);
    start.setUTCSeconds(0, 0);
    const created = (await client.callTool({
      name: 'googlecalendar_create_event',
      arguments: {
        summary: `Reminder: reply to message ${latest.messages[0]?.id}`,
        start_datetime: start.toISOString(),
        event_duration_minutes: 15,
      },
    })) as CallToolResult;
    expect(created.isError).toBeFalsy();
    const event = JSON.parse(textOf(created)) as { id: string };
    await client.close();

    // The event exists in john's sandbox calendar, read back through Google's REST path.
    const token = stack.sandbox.state.oauth.issueTokenDirectly({
      email: 'john.doe@example.com',
      scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
    });
    const stored = await stack.fetch(`${stack.sandbox.url}/calendar/v3/calendars/primary/events/${event.id}`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(stored.status).toBe(200);
    const body = (await stored.json()) as { summary: string; start: { dateTime: string }; end: { dateTime: string } };
    expect(body.summary).toBe(`Reminder: reply to message ${latest.messages[0]?.id}`);
    expect(Date.parse(body.start.dateTime)).toBe(start.getTime());
    expect(Date.parse(body.end.dateTime) - Date.parse(body.start.dateTime)).toBe(15 * 60_000);

    // Both calls are in the tool-call log as MCP calls of this instance.
    const logs = await stack.api<{
      tool_call_logs: { tool_name: string; source: string; instance_id: string; status: string }[];
    }>('GET', '/api/v1/agentkit/tool_call_logs?source=MCP&status=SUCCESS');
    expect(logs.body.tool_call_logs.map((l) => [l.tool_name, l.instance_id])).toEqual([
      ['googlecalendar_create_event', instance.id],
      ['gmail_fetch_mails', instance.id],
    ]);
    expect(config.id).toMatch(/^cfg_/);
  });
});
