import { type Stack, startStack } from '@switchboard/server/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReminderAgent, Switchboard, sandboxConsent } from '../src/index.js';

/** Reads an event straight from the sandbox's Calendar API, with a token of its own: no Switchboard involved. */
async function eventInSandbox(sandboxUrl: string, eventId: string) {
  const issued = await fetch(`${sandboxUrl}/__sandbox/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: 'john.doe@example.com',
      scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
    }),
  });
  const { access_token } = (await issued.json()) as { access_token: string };
  const response = await fetch(`${sandboxUrl}/calendar/v3/calendars/primary/events/${encodeURIComponent(eventId)}`, {
    headers: { authorization: `Bearer ${access_token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { summary: string; start: { dateTime: string }; end: { dateTime: string } };
}

describe('the reminder agent', () => {
  let stack: Stack;
  beforeAll(async () => {
    // LangChain's MCP client and the consent links need real sockets.
    stack = await startStack({ listen: true });
  });
  afterAll(() => stack?.close());

  it('runs the seed workflow offline and unattended, and the reminder is in john.doe’s calendar', async () => {
    const lines: string[] = [];
    const switchboard = new Switchboard({
      url: stack.url,
      clientId: stack.admin.client_id,
      clientSecret: stack.admin.client_secret,
    });
    const startedAt = Date.now();

    const result = await runReminderAgent({
      switchboard,
      log: (line) => lines.push(line),
      autoConsent: sandboxConsent('john.doe@example.com'),
      connectTimeoutMs: 10_000,
      pollIntervalMs: 100,
    });

    expect(result.model).toContain('scripted');
    expect(lines.join('\n')).toMatch(/scripted offline model/);
    expect(lines.some((line) => line.includes('authenticate: http'))).toBe(true);
    expect(result.toolCalls.map((c) => c.name)).toEqual(['gmail_fetch_mails', 'googlecalendar_create_event']);
    expect(result.toolCalls[0]?.args).toEqual({ max_results: 1 });
    expect(result.answer).toMatch(/I created "Reminder: .+" starting/);

    expect(result.event?.id).toBeTruthy();
    const event = await eventInSandbox(stack.sandbox.url, result.event?.id ?? '');
    const start = Date.parse(event.start.dateTime);
    const end = Date.parse(event.end.dateTime);
    expect(Math.abs(start - (startedAt + 15 * 60_000))).toBeLessThan(60_000);
    expect(end - start).toBe(15 * 60_000);
    expect(event.summary).toMatch(/^Reminder: /);
  });

  it('reuses what exists on a second run and does not ask for consent again', async () => {
    const lines: string[] = [];
    const switchboard = new Switchboard({
      url: stack.url,
      clientId: stack.admin.client_id,
      clientSecret: stack.admin.client_secret,
    });
    const result = await runReminderAgent({ switchboard, log: (line) => lines.push(line), connectTimeoutMs: 1_000 });
    expect(lines.join('\n')).toContain('MY_GMAIL (gmail) exists');
    expect(lines.join('\n')).toContain('reminder-manager (reused)');
    expect(lines.some((line) => line.includes('authenticate:'))).toBe(false);
    expect(result.event?.summary).toMatch(/^Reminder: /);
  });

  it('stops with a clear message when the user does not connect in time', async () => {
    const switchboard = new Switchboard({
      url: stack.url,
      clientId: stack.admin.client_id,
      clientSecret: stack.admin.client_secret,
    });
    await switchboard.connectedAccounts.disconnect({ connector: 'MY_GMAIL', identifier: 'john-doe' });
    await expect(
      runReminderAgent({ switchboard, log: () => {}, connectTimeoutMs: 300, pollIntervalMs: 100 }),
    ).rejects.toThrow(/timed out waiting for john-doe to connect MY_GMAIL \(DISCONNECTED\)/);
  });
});
