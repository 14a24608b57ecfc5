import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import { ProviderError } from '../errors.js';
import { createProviderClient, parseRetryAfter } from './provider-client.js';

const ORIGIN = 'https://gmail.googleapis.com';

describe('the provider edge', () => {
  const seen: { method: string; path: string; auth: string | undefined }[] = [];
  let base = '';
  let close: () => void = () => undefined;

  beforeAll(async () => {
    const app = new Hono();
    app.all('*', (c) => {
      seen.push({
        method: c.req.method,
        path: `${c.req.path}${new URL(c.req.url).search}`,
        auth: c.req.header('authorization'),
      });
      if (c.req.path.endsWith('/unauthorized'))
        return c.json({ error: { code: 401, message: 'Invalid Credentials' } }, 401);
      if (c.req.path.endsWith('/broken')) return c.json({ error: { code: 500, message: 'Backend Error' } }, 500);
      return c.json({ ok: true });
    });
    await new Promise<void>((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        base = `http://127.0.0.1:${info.port}/prefix`;
        resolve();
      });
      close = () => server.close();
    });
  });
  afterAll(() => close());

  const api = (tokens: string[]) => {
    let calls = 0;
    const edge = createProviderClient({
      fetch,
      apiOrigins: [ORIGIN],
      sandboxBaseUrl: base,
      timeoutMs: 2_000,
      clock: systemClock,
      sleep: async () => undefined,
      getAccessToken: async () => tokens[Math.min(calls++, tokens.length - 1)] ?? '',
    });
    return { edge, calls: () => calls };
  };

  it('refuses a host the provider does not declare, before any request', async () => {
    const before = seen.length;
    const { edge, calls } = api(['t1']);
    const error = await edge.request({ url: 'https://evil.example.com/steal' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('provider_host_not_allowed');
    expect(seen.length).toBe(before);
    expect(calls()).toBe(0);
  });

  it('rewrites a declared URL to the sandbox, keeping path and query, and adds the token', async () => {
    const { edge } = api(['secret-token-1']);
    await edge.request({
      url: `${ORIGIN}/gmail/v1/users/me/messages?x=1`,
      query: { maxResults: 2, labelIds: ['A', 'B'] },
    });
    expect(seen.at(-1)).toEqual({
      method: 'GET',
      path: '/prefix/gmail/v1/users/me/messages?x=1&maxResults=2&labelIds=A&labelIds=B',
      auth: 'Bearer secret-token-1',
    });
  });

  it('asks for a new token once after a 401 and never puts a token in the error', async () => {
    const { edge, calls } = api(['old-token', 'new-token']);
    const error = (await edge.request({ url: `${ORIGIN}/unauthorized` }).catch((e: unknown) => e)) as ProviderError;
    expect(error.code).toBe('provider_unauthorized');
    expect(calls()).toBe(2);
    expect(seen.slice(-2).map((s) => s.auth)).toEqual(['Bearer old-token', 'Bearer new-token']);
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toMatch(/old-token|new-token/);
  });

  it('retries a 500 for a GET but never for a POST, which may have taken effect', async () => {
    const before = seen.length;
    const { edge } = api(['t']);
    await edge.request({ url: `${ORIGIN}/broken` }).catch(() => undefined);
    expect(seen.length - before).toBe(3);
    const beforePost = seen.length;
    const error = (await edge
      .request({ method: 'POST', url: `${ORIGIN}/broken`, body: {} })
      .catch((e: unknown) => e)) as ProviderError;
    expect(error.code).toBe('provider_unavailable');
    expect(seen.length - beforePost).toBe(1);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
