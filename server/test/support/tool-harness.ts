import { type Clock, systemClock } from '../../src/clock.js';
import { createProviderClient } from '../../src/execution/provider-client.js';
import { SCOPE as GMAIL_SCOPE } from '../../src/providers/gmail/scopes.js';
import type { ProviderDefinition, ToolContext, ToolDefinition } from '../../src/providers/types.js';
import { validationError } from '../../src/validation.js';
import { inProcessSandbox, type RunningSandbox, startSandbox } from './sandbox.js';

/**
 * Provider tools run exactly as in production, through the real provider-API client, with
 * the sandbox standing in for Google (in process by default, no socket).
 */

export const JOHN = 'john.doe@example.com';
export const ALL_GMAIL_SCOPES = [
  GMAIL_SCOPE.full,
  GMAIL_SCOPE.modify,
  GMAIL_SCOPE.settingsBasic,
  GMAIL_SCOPE.settingsSharing,
  GMAIL_SCOPE.contactsReadonly,
];
export const FULL_CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar';
/** The fixed "now" of calendar tool tests. */
export const SANDBOX_NOW = Date.parse('2026-03-02T15:00:00Z');
/** SWITCHBOARD_MAX_TOOL_RESULT_BYTES's default (config.ts). */
export const DEFAULT_MAX_RESULT_BYTES = 10_485_760;

/**
 * Validates raw input with the tool's schema as the engine does, then runs the tool. Bad
 * input throws the engine's error: an AppError with code `tool_input_invalid`.
 */
export async function runTool<T = unknown>(tool: ToolDefinition, input: unknown, ctx: ToolContext): Promise<T> {
  const parsed = tool.input.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, 'tool_input_invalid');
  return (await tool.run(parsed.data, ctx)) as T;
}

/**
 * A tool context whose client is the real provider-API edge, aimed at `baseUrl` the way a
 * sandbox connection is (the provider's API origins rewritten onto it).
 */
export function toolContext(options: {
  apiOrigins: string[];
  baseUrl: string;
  accessToken: string | (() => string);
  clock?: Clock;
  fetch?: typeof fetch;
  maxResultBytes?: number;
}): ToolContext {
  const clock = options.clock ?? systemClock;
  const { accessToken } = options;
  const api = createProviderClient({
    fetch: options.fetch ?? fetch,
    apiOrigins: options.apiOrigins,
    sandboxBaseUrl: options.baseUrl,
    getAccessToken: async () => (typeof accessToken === 'string' ? accessToken : accessToken()),
    timeoutMs: 5000,
    clock,
    maxRetries: 0,
  });
  return {
    api,
    signal: new AbortController().signal,
    now: () => clock.now(),
    maxResultBytes: options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
  };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

/** A fetch that notes each request (method, path, query, JSON body), then sends it `through`. */
export function recordingFetch(into: RecordedRequest[], through: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const text = typeof init?.body === 'string' ? init.body : undefined;
    into.push({
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: text === undefined ? undefined : parseJson(text),
    });
    return through(input, init);
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface ToolHarnessOptions {
  provider: Pick<ProviderDefinition, 'apiOrigins'>;
  /** Scopes of the default context's token. */
  scopes: string[];
  /** The user of the default context (default: John). */
  email?: string;
  /** A fixed time for the sandbox and the tools (default: the system clock). */
  now?: number;
  /** Serve the sandbox on a loopback port instead of in process. */
  listen?: boolean;
}

export interface ToolHarness {
  sandbox: RunningSandbox;
  /** Every request the default and derived contexts sent, as the sandbox received it. */
  requests: RecordedRequest[];
  /** The default context: `email` with `scopes`. */
  ctx: ToolContext;
  /** A context for another token of the same sandbox (other user, fewer scopes, a wrapping fetch, a smaller result limit). */
  contextFor(options?: {
    email?: string;
    scopes?: string[];
    fetch?: typeof fetch;
    maxResultBytes?: number;
  }): ToolContext;
  /** Runs a tool as `runTool` does, in the default context unless given one. */
  run<T = Record<string, unknown>>(tool: ToolDefinition, input: unknown, ctx?: ToolContext): Promise<T>;
  close(): Promise<void>;
}

export async function startToolHarness(options: ToolHarnessOptions): Promise<ToolHarness> {
  const { now } = options;
  const clock: Clock = now === undefined ? systemClock : { now: () => now };
  const sandbox = options.listen ? await startSandbox({ clock }) : inProcessSandbox({ clock });
  const requests: RecordedRequest[] = [];
  const contextFor: ToolHarness['contextFor'] = (context = {}) =>
    toolContext({
      apiOrigins: options.provider.apiOrigins,
      baseUrl: sandbox.url,
      accessToken: sandbox.state.oauth.issueTokenDirectly({
        email: context.email ?? options.email ?? JOHN,
        scopes: context.scopes ?? options.scopes,
      }).access_token,
      clock,
      fetch: recordingFetch(requests, context.fetch ?? sandbox.fetch),
      maxResultBytes: context.maxResultBytes,
    });
  const ctx = contextFor();
  return {
    sandbox,
    requests,
    ctx,
    contextFor,
    run: <T>(tool: ToolDefinition, input: unknown, context?: ToolContext) => runTool<T>(tool, input, context ?? ctx),
    close: () => sandbox.close(),
  };
}
