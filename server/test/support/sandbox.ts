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

/**
 * An authentication link followed over real sockets as a browser would, through the consent of
 * a server's mounted sandbox (`login_hint` signs in, `allow` decides); the callback's answer.
 */
export async function followSandboxConsent(link: string, loginHint = 'john.doe@example.com'): Promise<Response> {
  const opened = await fetch(link, { redirect: 'manual' });
  const authorize = new URL(opened.headers.get('location') ?? '', link);
  authorize.searchParams.set('login_hint', loginHint);
  authorize.searchParams.set('sandbox_auto_consent', 'allow');
  const decided = await fetch(authorize, { redirect: 'manual' });
  return fetch(new URL(decided.headers.get('location') ?? '', authorize), { redirect: 'manual' });
}
