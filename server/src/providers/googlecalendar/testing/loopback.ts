import { serve } from '@hono/node-server';
import { type Clock, systemClock } from '../../../clock.js';
import { AppError } from '../../../errors.js';
import { createProviderClient } from '../../../execution/provider-client.js';
import { createSandbox, type Sandbox } from '../../../sandbox/app.js';
import type { ToolContext, ToolDefinition } from '../../types.js';
import { googleCalendar } from '../provider.js';

/** A web handler listening on 127.0.0.1 at a free port, for tests that need a real socket. */
export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

export function serveOnLoopback(handler: (request: Request) => Response | Promise<Response>): Promise<LoopbackServer> {
  return new Promise((resolve) => {
    const server = serve({ fetch: handler, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error?: Error) => (error ? fail(error) : done()));
          }),
      });
    });
  });
}

/**
 * A tool context whose ProviderClient is the real HTTP edge, aimed at `baseUrl` the way a
 * sandbox connection is (Google's URLs rewritten onto it), with a fixed access token.
 */
export function calendarToolContext(options: {
  baseUrl: string;
  accessToken: string;
  clock?: Clock;
  fetch?: typeof fetch;
}): ToolContext {
  const clock = options.clock ?? systemClock;
  const api = createProviderClient({
    fetch: options.fetch ?? fetch,
    apiOrigins: googleCalendar.apiOrigins,
    sandboxBaseUrl: options.baseUrl,
    getAccessToken: async () => options.accessToken,
    timeoutMs: 5000,
    clock,
    maxRetries: 0,
  });
  return { api, signal: new AbortController().signal, now: () => clock.now() };
}

/** Validates raw input with the tool's schema, as the engine does, then runs the tool. */
export async function runTool<T = unknown>(tool: ToolDefinition, input: unknown, ctx: ToolContext): Promise<T> {
  const parsed = tool.input.safeParse(input);
  if (!parsed.success) {
    throw new AppError(
      'tool_input_invalid',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return (await tool.run(parsed.data, ctx)) as T;
}

export const SANDBOX_NOW = Date.parse('2026-03-02T15:00:00Z');
export const FULL_CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar';

export interface CalendarSandbox {
  ctx: ToolContext;
  baseUrl: string;
  sandbox: Sandbox;
  /** Every request the tools sent, as the sandbox received it. */
  requests: RecordedRequest[];
  /** A context for another token of the same sandbox (other user or fewer scopes). */
  contextFor(email: string, scopes: string[]): ToolContext;
  close(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

/** A fetch that notes each request (method, path, query, JSON body) before sending it. */
export function recordingFetch(into: RecordedRequest[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const text = typeof init?.body === 'string' ? init.body : undefined;
    into.push({
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: text === undefined ? undefined : JSON.parse(text),
    });
    return fetch(input, init);
  };
}

/** The sandbox on a loopback port at a fixed time, with a full-calendar token for john.doe@example.com. */
export async function startCalendarSandbox(
  options: { now?: number; email?: string; scopes?: string[] } = {},
): Promise<CalendarSandbox> {
  const clock: Clock = { now: () => options.now ?? SANDBOX_NOW };
  const sandbox = createSandbox({ clock });
  const server = await serveOnLoopback(sandbox.app.fetch);
  const requests: RecordedRequest[] = [];
  const contextFor = (email: string, scopes: string[]) =>
    calendarToolContext({
      baseUrl: server.url,
      accessToken: sandbox.state.issueTokenDirectly({ email, scopes }).access_token,
      clock,
      fetch: recordingFetch(requests),
    });
  return {
    ctx: contextFor(options.email ?? 'john.doe@example.com', options.scopes ?? [FULL_CALENDAR_SCOPE]),
    baseUrl: server.url,
    sandbox,
    requests,
    contextFor,
    close: () => server.close(),
  };
}
