import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { inProcessFetch } from './in-process.js';
import { serveOnLoopback } from './loopback.js';

/** Where an in-process sandbox pretends to live; nothing listens there. */
export const IN_PROCESS_SANDBOX_URL = 'http://sandbox.localhost';

export interface RunningSandbox extends Sandbox {
  /** Base URL without a trailing slash. */
  url: string;
  /** A fetch that reaches `url` (in process, or over the socket). */
  fetch: typeof fetch;
  close(): Promise<void>;
}

/** The sandbox on a free loopback port, for tests where real HTTP is the point. */
export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const sandbox = createSandbox(options);
  const server = await serveOnLoopback(sandbox.app.fetch);
  return { ...sandbox, url: server.url, fetch: globalThis.fetch, close: () => server.close() };
}

/**
 * The sandbox with no socket: `fetch` hands requests for `url` to its app. Once closed, it
 * fails like a refused connection, so "Google is unreachable" can be tested too.
 */
export function inProcessSandbox(options: SandboxOptions = {}): RunningSandbox {
  const sandbox = createSandbox(options);
  let closed = false;
  const handler = (request: Request) =>
    closed
      ? Promise.reject(new TypeError('fetch failed', { cause: new Error(`connect ECONNREFUSED ${request.url}`) }))
      : sandbox.app.fetch(request);
  return {
    ...sandbox,
    url: IN_PROCESS_SANDBOX_URL,
    fetch: inProcessFetch({ [IN_PROCESS_SANDBOX_URL]: handler }),
    close: async () => {
      closed = true;
    },
  };
}
