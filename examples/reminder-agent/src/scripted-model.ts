import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { contentText, parseJson } from './tool-results.js';

export const REMINDER_LEAD_MINUTES = 15;
export const REMINDER_DURATION_MINUTES = 15;

interface LatestMail {
  subject?: string;
  from?: string;
}

/**
 * A chat model that needs no API key: it plays the part of an LLM for the reminder prompt,
 * asking for the same tool calls a real model makes (fetch 1 email, then create the event
 * in 15 minutes for 15 minutes) and answering from the real tool results. It decides from
 * the conversation so far, so it works with any agent loop that feeds tool results back.
 */
export class ScriptedReminderModel extends BaseChatModel {
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    super({});
    this.now = options.now ?? (() => Date.now());
  }

  override _llmType(): string {
    return 'scripted-reminder';
  }

  /** The script already knows its tools; binding changes nothing. */
  override bindTools(): this {
    return this;
  }

  override async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const results = toolResultsByName(messages);
    const mails = results.get('gmail_fetch_mails');
    const created = results.get('googlecalendar_create_event');
    let message: AIMessage;
    if (!mails) {
      message = callTool('gmail_fetch_mails', { max_results: 1 });
    } else if (mails.failed) {
      message = new AIMessage(`I could not read your latest email: ${mails.text}`);
    } else if (!created) {
      const mail = latestMail(mails.text);
      const start = new Date(this.now() + REMINDER_LEAD_MINUTES * 60_000);
      start.setUTCMilliseconds(0);
      message = callTool('googlecalendar_create_event', {
        summary: `Reminder: ${mail.subject ?? 'your latest email'}`,
        description: mail.from ? `Follow up on the email from ${mail.from}.` : 'Follow up on your latest email.',
        start_datetime: start.toISOString().replace('.000Z', 'Z'),
        event_duration_hour: 0,
        event_duration_minutes: REMINDER_DURATION_MINUTES,
      });
    } else {
      message = new AIMessage(finalAnswer(mails.text, created));
    }
    return { generations: [{ text: contentText(message.content), message }] };
  }
}

let callCounter = 0;

function callTool(name: string, args: Record<string, unknown>): AIMessage {
  return new AIMessage({ content: '', tool_calls: [{ id: `call_${++callCounter}`, name, args, type: 'tool_call' }] });
}

interface ToolOutcome {
  text: string;
  failed: boolean;
}

/** Each tool's latest result by tool name, matching tool messages to the calls that asked for them. */
function toolResultsByName(messages: BaseMessage[]): Map<string, ToolOutcome> {
  const names = new Map<string, string>();
  const results = new Map<string, ToolOutcome>();
  for (const message of messages) {
    if (AIMessage.isInstance(message)) {
      for (const call of message.tool_calls ?? []) if (call.id) names.set(call.id, call.name);
    } else if (message.type === 'tool') {
      const { tool_call_id: id, status } = message as BaseMessage & { tool_call_id?: string; status?: string };
      const name = id ? names.get(id) : undefined;
      if (name) results.set(name, { text: contentText(message.content), failed: status === 'error' });
    }
  }
  return results;
}

function latestMail(text: string | undefined): LatestMail {
  const data = parseJson(text);
  const messages =
    data && typeof data === 'object' && 'messages' in data ? (data as { messages: unknown }).messages : undefined;
  const first: unknown = Array.isArray(messages) ? messages[0] : undefined;
  if (!first || typeof first !== 'object') return {};
  const { subject, from } = first as Record<string, unknown>;
  return {
    subject: typeof subject === 'string' ? subject : undefined,
    from: typeof from === 'string' ? from : undefined,
  };
}

function finalAnswer(mailText: string, created: ToolOutcome): string {
  const mail = latestMail(mailText);
  const event = parseJson(created.text) as
    | { summary?: string; start?: { dateTime?: string }; htmlLink?: string }
    | undefined;
  if (created.failed || !event?.start?.dateTime) return `I could not create the reminder: ${created.text}`;
  const about = mail.subject ? `Your latest email is "${mail.subject}"${mail.from ? ` from ${mail.from}` : ''}. ` : '';
  const link = event.htmlLink ? ` (${event.htmlLink})` : '';
  return `${about}I created "${event.summary}" starting ${event.start.dateTime} for ${REMINDER_DURATION_MINUTES} minutes${link}.`;
}
