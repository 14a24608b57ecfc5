import { systemClock } from '../../clock.js';
import { createProviderClient } from '../../execution/provider-client.js';
import { type RunningSandbox, startSandbox } from '../../sandbox/testing.js';
import type { ProviderClient, ToolContext, ToolDefinition } from '../types.js';
import { SCOPE } from './scopes.js';

/**
 * Test support: the real sandbox on a loopback port and the real provider-API edge in front
 * of it, so Gmail tools run exactly as in production, only against the emulator.
 */

export const ALL_GMAIL_SCOPES = [
  SCOPE.full,
  SCOPE.modify,
  SCOPE.settingsBasic,
  SCOPE.settingsSharing,
  SCOPE.contactsReadonly,
];

export const JOHN = 'john.doe@example.com';

export function apiFor(
  baseUrl: string,
  token: () => string,
  fetchImpl: typeof fetch = fetch,
  origins = ['https://gmail.googleapis.com', 'https://people.googleapis.com'],
): ProviderClient {
  return createProviderClient({
    fetch: fetchImpl,
    apiOrigins: origins,
    sandboxBaseUrl: baseUrl,
    getAccessToken: async () => token(),
    timeoutMs: 5000,
    clock: systemClock,
    maxRetries: 0,
  });
}

export function contextFor(api: ProviderClient, now: () => number = () => systemClock.now()): ToolContext {
  return { api, signal: new AbortController().signal, now };
}

/** Validates the input as the engine does, then runs the tool. */
export async function runTool(tool: ToolDefinition, input: unknown, ctx: ToolContext): Promise<unknown> {
  return tool.run(tool.input.parse(input), ctx);
}

export interface GmailHarness {
  sandbox: RunningSandbox;
  /** A context acting as `email` with `scopes` (defaults: John, every Gmail scope). */
  ctx(options?: { email?: string; scopes?: string[]; fetch?: typeof fetch }): ToolContext;
  run<T = Record<string, unknown>>(tool: ToolDefinition, input: unknown, ctx?: ToolContext): Promise<T>;
  close(): Promise<void>;
}

export async function startGmailHarness(): Promise<GmailHarness> {
  const sandbox = await startSandbox();
  const ctx = (options: { email?: string; scopes?: string[]; fetch?: typeof fetch } = {}) => {
    const token = sandbox.state.issueTokenDirectly({
      email: options.email ?? JOHN,
      scopes: options.scopes ?? ALL_GMAIL_SCOPES,
    }).access_token;
    return contextFor(apiFor(sandbox.url, () => token, options.fetch));
  };
  const defaultCtx = ctx();
  return {
    sandbox,
    ctx,
    run: async <T>(tool: ToolDefinition, input: unknown, context?: ToolContext) =>
      (await runTool(tool, input, context ?? defaultCtx)) as T,
    close: () => sandbox.close(),
  };
}
