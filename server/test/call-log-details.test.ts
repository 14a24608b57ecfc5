import type { ToolCallLog, ToolCallLogList } from '@switchboard/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactErrorMessage, summarizeArguments } from '../src/execution/call-details.js';
import { DashboardClient } from './dashboard/dashboard-client.js';
import { type Stack, startStack } from './support/stack.js';

describe('the argument summary of a logged call', () => {
  it('keeps keys and short values, cuts long strings, drops bodies and secrets', () => {
    const summary = JSON.parse(
      summarizeArguments({
        query: 'from:boss is:unread',
        max_results: 5,
        include_spam_trash: false,
        subject: 's'.repeat(300),
        calendar_id: `c_${'0a'.repeat(32)}@group.calendar.google.com`,
        body: 'Dear John, the secret plan is…',
        raw: 'RnJvbTogYm9zcw==',
        html_content: '<p>hi</p>',
        access_token: 'ya29.a0AfH6SMB',
        client_secret: 'GOCSPX-x',
        label_ids: ['INBOX', 'UNREAD', 'A', 'B', 'C', 'D', 'E'],
        attachment: { filename: 'a.pdf', data: 'JVBERi0x' },
      }) ?? 'null',
    ) as Record<string, unknown>;
    expect(summary).toMatchObject({ query: 'from:boss is:unread', max_results: 5, include_spam_trash: false });
    expect(summary.subject).toBe(`${'s'.repeat(64)}…`);
    // Long ids are no secrets: only error messages redact any long unbroken run.
    expect(summary.calendar_id).toBe(`c_${'0a'.repeat(31)}…`);
    expect(summary.label_ids).toEqual(['INBOX', 'UNREAD', 'A', 'B', 'C', '… 2 more']);
    for (const dropped of ['body', 'raw', 'html_content', 'access_token', 'client_secret', 'attachment']) {
      expect(summary).not.toHaveProperty(dropped);
    }
    expect(JSON.stringify(summary)).not.toMatch(/secret plan|ya29|GOCSPX|RnJvbTo|JVBERi0x/);
  });

  it('drops keys, signatures and codes by name and redacts tokens and links in the values it keeps', () => {
    const summary = JSON.parse(
      summarizeArguments({
        key: 'AIzaSyA-0123456789abcdefghijklmnopqrstu',
        sig: 'c2lnbmF0dXJl',
        signature: '<b>John</b>',
        code: '4/0AbCdEf',
        'x-goog-api-key': 'k-123',
        country_code: 'FR',
        query: 'from:ops Authorization: Bearer sk-live-9f8e7d',
        note: 'token ya29.a0AfH6SMBx, link http://localhost:3000/connect/Ab3dEf_ghIJkl-mnop',
        url: 'https://example.com/cb?state=s1&code=4/0AbCdEf',
      }) ?? 'null',
    ) as Record<string, unknown>;
    for (const dropped of ['key', 'sig', 'signature', 'code', 'x-goog-api-key'])
      expect(summary).not.toHaveProperty(dropped);
    expect(summary).toMatchObject({
      country_code: 'FR',
      query: 'from:ops Authorization: Bearer [redacted]',
      url: 'https://example.com/cb?state=s1&code=[redacted]',
    });
    expect(summary.note).toContain('/connect/[redacted]');
    expect(JSON.stringify(summary)).not.toMatch(/AIza|sk-live|ya29|Ab3dEf|4\/0AbCdEf|John/);
  });

  it('stays under 1 KB whatever it is given', () => {
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key_${i}`, 'v'.repeat(60)]));
    const json = summarizeArguments(wide) ?? '';
    expect(json.length).toBeLessThanOrEqual(1024);
    expect(JSON.parse(json)).toHaveProperty('…');
    expect(summarizeArguments(undefined)).toBeNull();
  });

  it('redacts links, bearer tokens and token-like strings from error messages', () => {
    const message = redactErrorMessage(
      'not connected. Ask the user to open this link: http://localhost:3000/connect/Ab3dEf_ghIJkl-mnop then retry; Authorization: Bearer ya29.A0ARrdaM-xyz; refresh_token=1//0gAbC&x=1 and sk_live_0123456789abcdefghijklmnopqrstuvwxyzABCD',
    );
    expect(message).toContain('/connect/[redacted]');
    expect(message).toContain('Bearer [redacted]');
    expect(message).toContain('refresh_token=[redacted]');
    expect(message).not.toMatch(/Ab3dEf|ya29|1\/\/0gAbC|sk_live_0123/);
    expect(redactErrorMessage('x'.repeat(5000)).length).toBeLessThanOrEqual(1001);
  });
});

describe('tool-call logs to debug with', () => {
  let stack: Stack;
  let accountId: string;
  const logs = async (query: string) => {
    const answer = await stack.api<ToolCallLogList>('GET', `/api/v1/agentkit/tool_call_logs${query}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.tool_call_logs;
  };
  const execute = (body: Record<string, unknown>) =>
    stack.api<{ execution_id: string }>('POST', '/api/v1/execute_tool', body);

  beforeAll(async () => {
    stack = await startStack();
    await stack.createConnection('MY_GMAIL', 'gmail', { target: 'sandbox' });
    accountId = await stack.connectAccount('MY_GMAIL', 'john-doe');
  });
  afterAll(() => stack?.close());

  it('stores a failed call’s message, redacted, and a summary of its arguments without the body', async () => {
    const failed = await execute({
      tool_name: 'gmail_send_message',
      connector: 'MY_GMAIL',
      identifier: 'nobody-yet',
      params: { to: 'jane@example.com', subject: 'Lunch', body: 'the whole private message' },
    });
    expect(failed.status).toBe(409);
    const [row] = await logs(`?execution_id=${failed.body.execution_id}`);
    expect(row).toMatchObject({
      execution_id: failed.body.execution_id,
      status: 'FAILED',
      error_code: 'account_not_connected',
      argument_summary: { to: 'jane@example.com', subject: 'Lunch' },
    } satisfies Partial<ToolCallLog>);
    expect(row?.error_message).toContain('nobody-yet has not connected MY_GMAIL yet');
    expect(row?.error_message).toContain('/connect/[redacted]');
    expect(JSON.stringify(row)).not.toContain('private message');

    const ok = await execute({
      tool_name: 'gmail_fetch_mails',
      connected_account_id: accountId,
      params: { max_results: 1 },
    });
    expect(ok.status).toBe(200);
    const [success] = await logs(`?execution_id=${ok.body.execution_id}`);
    expect(success).toMatchObject({ status: 'SUCCESS', error_message: null, argument_summary: { max_results: 1 } });
  });

  it('filters tool names by prefix and by part, case-insensitively, with _ taken literally', async () => {
    await execute({ tool_name: 'gmail_list_labels', connected_account_id: accountId, params: {} });
    const names = async (query: string) => [...new Set((await logs(query)).map((row) => row.tool_name))].sort();
    expect(await names('?tool_name_prefix=gmail_')).toEqual([
      'gmail_fetch_mails',
      'gmail_list_labels',
      'gmail_send_message',
    ]);
    expect(await names('?tool_name_prefix=GMAIL_F')).toEqual(['gmail_fetch_mails']);
    expect(await names('?tool_name_contains=label')).toEqual(['gmail_list_labels']);
    expect(await names('?tool_name_contains=_mails')).toEqual(['gmail_fetch_mails']);
    // `_` is not a wildcard: "gmail_fetch_" does not match "gmailXfetch…"-like names, nor does "%" match all.
    expect(await names('?tool_name_contains=%25')).toEqual([]);
    expect(await names('?tool_name_prefix=gmail%5F%5Fetch')).toEqual([]);
    expect(await names('?tool_name=gmail_fetch_mails')).toEqual(['gmail_fetch_mails']);
  });

  it('shows the execution id in the dashboard logs page and finds a call by it', async () => {
    const ok = await execute({ tool_name: 'gmail_list_labels', connected_account_id: accountId, params: {} });
    const dashboard = new DashboardClient(stack);
    await dashboard.signIn();
    const all = await (await dashboard.get('/dashboard/logs')).text();
    expect(all).toContain(`<code>${ok.body.execution_id}</code>`);
    expect(all).toContain('Execution id');
    const found = await (await dashboard.get(`/dashboard/logs?execution=${ok.body.execution_id}`)).text();
    expect(found).toContain('(1 calls)');
    expect(found).toContain(ok.body.execution_id);
    const byPrefix = await (await dashboard.get('/dashboard/logs?tool=gmail_list&match=prefix')).text();
    expect(byPrefix).toContain('gmail_list_labels');
    expect(byPrefix).not.toContain('<code>gmail_fetch_mails</code>');
    const failed = await (await dashboard.get('/dashboard/logs?status=FAILED')).text();
    expect(failed).toContain('has not connected MY_GMAIL yet');
    expect(failed).toContain('/connect/[redacted]');
  });

  it('keeps an API key in a proxied query and a bearer token in an argument out of the logs read clients see', async () => {
    const apiKey = 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY';
    const proxied = await stack.fetch(
      `${stack.url}/proxy/gmail/v1/users/me/profile?fields=emailAddress&key=${apiKey}`,
      {
        headers: {
          connection_name: 'MY_GMAIL',
          identifier: 'john-doe',
          authorization: `Bearer ${await stack.token()}`,
        },
      },
    );
    expect(proxied.status, await proxied.text()).toBe(200);
    const [proxyRow] = await logs(`?execution_id=${proxied.headers.get('x-switchboard-execution-id')}`);
    expect(proxyRow?.argument_summary).toEqual({
      method: 'GET',
      path: '/gmail/v1/users/me/profile',
      query: { fields: 'emailAddress' },
    });

    const called = await execute({
      tool_name: 'gmail_fetch_mails',
      connected_account_id: accountId,
      params: { max_results: 1, query: 'subject:"Authorization: Bearer sk-live-9f8e7d"' },
    });
    expect(called.status).toBe(200);
    const [callRow] = await logs(`?execution_id=${called.body.execution_id}`);
    expect(callRow?.argument_summary).toEqual({
      max_results: 1,
      query: 'subject:"Authorization: Bearer [redacted]"',
    });

    const everything = JSON.stringify(await logs('?page_size=100'));
    expect(everything).not.toContain(apiKey);
    expect(everything).not.toContain('sk-live-9f8e7d');
  });
});
