import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, ToolMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { ScriptedReminderModel } from '../src/index.js';

const NOW = Date.UTC(2026, 10, 24, 9, 0, 0);

describe('the scripted reminder model', () => {
  const model = new ScriptedReminderModel({ now: () => NOW });
  const ask = new HumanMessage(
    'get 1 latest email and create a calendar reminder event in next 15 mins for a duration of 15 mins',
  );

  it('asks for one email, then books 15 minutes starting in 15 minutes, then answers from the results', async () => {
    const first = await model.invoke([ask]);
    expect(first.tool_calls).toEqual([
      expect.objectContaining({ name: 'gmail_fetch_mails', args: { max_results: 1 } }),
    ]);

    const mail = new ToolMessage({
      tool_call_id: first.tool_calls?.[0]?.id ?? '',
      content: JSON.stringify({ messages: [{ subject: 'Invoice INV-2041', from: 'Ana <ana@example.com>' }] }),
    });
    const second = await model.invoke([ask, first, mail]);
    expect(second.tool_calls?.[0]).toMatchObject({
      name: 'googlecalendar_create_event',
      args: {
        summary: 'Reminder: Invoice INV-2041',
        start_datetime: '2026-11-24T09:15:00Z',
        event_duration_hour: 0,
        event_duration_minutes: 15,
      },
    });

    const event = new ToolMessage({
      tool_call_id: second.tool_calls?.[0]?.id ?? '',
      content: JSON.stringify({ summary: 'Reminder: Invoice INV-2041', start: { dateTime: '2026-11-24T09:15:00Z' } }),
    });
    const answer = await model.invoke([ask, first, mail, second, event]);
    expect(answer.tool_calls ?? []).toEqual([]);
    expect(answer.content).toBe(
      'Your latest email is "Invoice INV-2041" from Ana <ana@example.com>. I created "Reminder: Invoice INV-2041" starting 2026-11-24T09:15:00Z for 15 minutes.',
    );
  });

  it('stops and reports the tool error when the email cannot be read', async () => {
    const first = await model.invoke([ask]);
    const failed = new ToolMessage({
      tool_call_id: first.tool_calls?.[0]?.id ?? '',
      status: 'error',
      content: 'MY_GMAIL for john-doe has expired; open http://localhost/connect/abc',
    });
    const answer = await model.invoke([ask, first, failed]);
    expect(answer.tool_calls ?? []).toEqual([]);
    expect(answer.content).toContain('I could not read your latest email: MY_GMAIL for john-doe has expired');
  });

  it('is a real chat model that agents can bind tools to', () => {
    expect(model).toBeInstanceOf(BaseChatModel);
    expect(model.bindTools()).toBe(model);
    expect(model._llmType()).toBe('scripted-reminder');
  });
});
