import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { type McpConnectionAuthState, type McpInstance, type Switchboard, SwitchboardError } from '@switchboard/sdk';
import { createAgent, initChatModel } from 'langchain';
import { ScriptedReminderModel } from './scripted-model.js';
import { contentText, parseJson } from './tool-results.js';

export const CONNECTIONS = [
  { name: 'MY_GMAIL', provider: 'gmail', tools: ['gmail_fetch_mails'] },
  { name: 'MY_CALENDAR', provider: 'googlecalendar', tools: ['googlecalendar_create_event'] },
] as const;
export const CONFIG_NAME = 'reminder-manager';
export const USER = 'john-doe';
export const PROMPT =
  'get 1 latest email and create a calendar reminder event in next 15 mins for a duration of 15 mins';

export interface ReminderAgentOptions {
  switchboard: Switchboard;
  /** Where progress goes, one line at a time. Default: console.log. */
  log?: (line: string) => void;
  /** Completes an authentication link without a person (see sandboxConsent); without it, a person opens the links. */
  autoConsent?: (link: string) => Promise<void>;
  /** With a key, OpenAI's model runs the agent; without one, the scripted offline model does. */
  openAiApiKey?: string;
  /** The OpenAI model name. Default gpt-4o-mini. */
  openAiModel?: string;
  /** Any LangChain chat model with tool calling; overrides the two choices above. */
  model?: BaseChatModel;
  /**
   * Your app's user verify route (see userVerifyHandler): the links end there, and an account
   * becomes ACTIVE only once the app confirms it is the user's. Default: the connection's or server's.
   */
  userVerifyUrl?: string;
  /** How long to wait for the user to connect every account. Default 10 minutes. */
  connectTimeoutMs?: number;
  pollIntervalMs?: number;
  now?: () => number;
}

export interface ToolCallRecord {
  name: string;
  args: Record<string, unknown>;
  result: string;
}

export interface CalendarEvent {
  id: string;
  summary?: string;
  start?: { dateTime?: string; date?: string; timeZone?: string };
  end?: { dateTime?: string; date?: string; timeZone?: string };
  htmlLink?: string;
}

export interface ReminderAgentResult {
  instance: McpInstance;
  /** Which model answered, e.g. "scripted (offline)" or "openai:gpt-4o-mini". */
  model: string;
  answer: string;
  toolCalls: ToolCallRecord[];
  /** The event the agent created, as read back from the calendar through Switchboard. */
  event: CalendarEvent | undefined;
}

/**
 * The seed workflow, end to end: connections, MCP config, the user's instance, consent,
 * then an agent that reads the latest email and books a reminder through the user's MCP URL.
 */
export async function runReminderAgent(options: ReminderAgentOptions): Promise<ReminderAgentResult> {
  const { switchboard } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const now = options.now ?? (() => Date.now());

  // 1. Connections (sandbox ones here; pass oauth_client_id/secret for real Google).
  for (const connection of CONNECTIONS) {
    await ensureConnection(switchboard, connection.name, connection.provider, log);
  }

  // 2. An MCP config exposing one tool of each connection.
  const mappings = CONNECTIONS.map((c) => ({ connection_name: c.name, tools: [...c.tools] }));
  const existing = (await switchboard.mcp.listConfigs({ name: CONFIG_NAME })).configs[0];
  const config = existing
    ? await switchboard.mcp.updateConfig(existing.id, { connection_tool_mappings: mappings })
    : await switchboard.mcp.createConfig({
        name: CONFIG_NAME,
        description: 'Reads mail, books reminders',
        connection_tool_mappings: mappings,
      });
  log(
    `✓ MCP config ${config.name} (${existing ? 'reused' : 'created'}): ${CONNECTIONS.flatMap((c) => c.tools).join(', ')}`,
  );

  // 3. The user's own MCP instance and URL.
  const instance = await switchboard.mcp.ensureInstance({ config_name: CONFIG_NAME, user_identifier: USER });
  log(`✓ MCP instance for ${USER}: ${instance.id}`);

  // 4. The user connects each account; wait until all are ACTIVE.
  await waitUntilConnected(switchboard, instance.id, {
    log,
    autoConsent: options.autoConsent,
    userVerifyUrl: options.userVerifyUrl,
    timeoutMs: options.connectTimeoutMs ?? 10 * 60_000,
    pollIntervalMs: options.pollIntervalMs ?? 1_000,
  });

  // 5. Any MCP client can now use the URL; here LangChain's agent does.
  const { model, label } = await chooseModel(options, now);
  log(`… running the agent with ${label}: "${PROMPT}"`);
  const client = new MultiServerMCPClient({
    mcpServers: { switchboard: { transport: 'http', url: instance.url } },
    prefixToolNameWithServerName: false,
  });
  let messages: BaseMessage[];
  try {
    const tools = await client.getTools();
    const agent = createAgent({
      model,
      tools,
      systemPrompt: `You are a helpful assistant. The current time is ${new Date(now()).toISOString()}. Use RFC 3339 times with an offset.`,
    });
    messages = (await agent.invoke({ messages: [{ role: 'user', content: PROMPT }] })).messages;
  } finally {
    await client.close();
  }

  const toolCalls = toolCallsOf(messages);
  const answer = contentText(messages.at(-1)?.content ?? '');
  for (const call of toolCalls) log(`  tool ${call.name} ${JSON.stringify(call.args)}`);
  log(`Agent: ${answer}`);

  const event = await readBackEvent(switchboard, toolCalls);
  return { instance, model: label, answer, toolCalls, event };
}

async function ensureConnection(switchboard: Switchboard, name: string, provider: string, log: (line: string) => void) {
  try {
    await switchboard.connections.create({ name, provider });
    log(`✓ connection ${name} (${provider}) created`);
  } catch (error) {
    if (!(error instanceof SwitchboardError && error.code === 'already_exists')) throw error;
    log(`✓ connection ${name} (${provider}) exists`);
  }
}

const isActive = (c: McpConnectionAuthState) => c.connected_account_status.toUpperCase() === 'ACTIVE';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilConnected(
  switchboard: Switchboard,
  instanceId: string,
  options: {
    log: (line: string) => void;
    autoConsent?: (link: string) => Promise<void>;
    userVerifyUrl?: string;
    timeoutMs: number;
    pollIntervalMs: number;
  },
): Promise<void> {
  const { log } = options;
  const state = await switchboard.mcp.getInstanceAuthState(instanceId, {
    include_auth_links: true,
    user_verify_url: options.userVerifyUrl,
  });
  if (options.userVerifyUrl)
    log(`  after consenting, the browser goes to the app's verify route ${options.userVerifyUrl}`);
  for (const c of state.connections) {
    log(`  ${c.connection_name} (${c.provider}): ${c.connected_account_status}`);
    if (!isActive(c) && c.authentication_link) log(`    authenticate: ${c.authentication_link}`);
  }
  let pending = state.connections.filter((c) => !isActive(c));
  if (pending.length === 0) return;

  if (options.autoConsent) {
    for (const c of pending) {
      await options.autoConsent(c.authentication_link);
      log(`  ✓ consent given for ${c.connection_name} (sandbox auto-consent)`);
    }
  } else {
    log(`Open each link above and consent; waiting up to ${Math.round(options.timeoutMs / 1000)} s …`);
  }

  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    pending = (await switchboard.mcp.getInstanceAuthState(instanceId)).connections.filter((c) => !isActive(c));
    if (pending.length === 0) break;
    if (Date.now() >= deadline) {
      const names = pending.map((c) => `${c.connection_name} (${c.connected_account_status})`).join(', ');
      throw new Error(
        `timed out waiting for ${USER} to connect ${names}: open the authentication links above, then run again`,
      );
    }
    await sleep(options.pollIntervalMs);
  }
  log(`✓ every account of ${USER} is ACTIVE`);
}

async function chooseModel(
  options: ReminderAgentOptions,
  now: () => number,
): Promise<{ model: BaseChatModel | Awaited<ReturnType<typeof initChatModel>>; label: string }> {
  if (options.model) return { model: options.model, label: options.model._llmType() };
  if (options.openAiApiKey) {
    const name = options.openAiModel ?? 'gpt-4o-mini';
    // initChatModel imports @langchain/openai only now, so the offline path never needs it.
    try {
      return {
        model: await initChatModel(`openai:${name}`, { apiKey: options.openAiApiKey }),
        label: `openai:${name}`,
      };
    } catch (error) {
      if (!/@langchain\/openai/.test(String(error))) throw error;
      throw new Error(
        'OPENAI_API_KEY is set, but @langchain/openai is not installed: run `npm install @langchain/openai -w examples/reminder-agent` (or unset OPENAI_API_KEY to use the scripted offline model)',
        { cause: error },
      );
    }
  }
  return { model: new ScriptedReminderModel({ now }), label: 'the scripted offline model (no OPENAI_API_KEY set)' };
}

function toolCallsOf(messages: BaseMessage[]): ToolCallRecord[] {
  const calls = new Map<string, ToolCallRecord>();
  for (const message of messages) {
    if (AIMessage.isInstance(message)) {
      for (const call of message.tool_calls ?? []) {
        calls.set(call.id ?? String(calls.size), { name: call.name, args: call.args, result: '' });
      }
    } else if (message.type === 'tool') {
      const id = (message as BaseMessage & { tool_call_id?: string }).tool_call_id;
      const call = id ? calls.get(id) : undefined;
      if (call) call.result = contentText(message.content);
    }
  }
  return [...calls.values()];
}

/** Reads the created event back from the calendar through the REST execute API, to show it really exists. */
async function readBackEvent(
  switchboard: Switchboard,
  toolCalls: ToolCallRecord[],
): Promise<CalendarEvent | undefined> {
  const created = toolCalls.findLast((c) => c.name === 'googlecalendar_create_event');
  const id = (parseJson(created?.result) as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string') return undefined;
  const { data } = await switchboard.tools.execute<CalendarEvent>({
    tool_name: 'googlecalendar_get_event_by_id',
    connector: 'MY_CALENDAR',
    identifier: USER,
    params: { event_id: id },
  });
  return data;
}
