import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoopbackServer, serveOnLoopback } from '../../test/support/loopback.js';
import { postStreamed, type StreamedAnswer } from '../../test/support/streamed-post.js';
import { createSandbox, type Sandbox } from './app.js';
import { GMAIL_MAX_BODY_BYTES, OAUTH_MAX_BODY_BYTES } from './body-limits.js';

const SIXTY_FOUR_MB = 64 * 1024 * 1024;
const MAIL = 'https://mail.google.com/';
/** What an OAuth client sends to the token endpoint. */
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** POSTs a form body of up to `total` bytes (see postStreamed). */
const post = (url: string, options: { total: number; contentLength?: number; headers?: Record<string, string> }) =>
  postStreamed(url, { ...options, headers: { ...FORM, ...options.headers } });

function googleMessage(answer: StreamedAnswer): string {
  return (JSON.parse(answer.body) as { error: { message: string } }).error.message;
}

describe('the sandbox limits request bodies before any route reads them', () => {
  let sandbox: Sandbox;
  /** The sandbox mounted under /sandbox, as the server mounts it. */
  let mounted: LoopbackServer;
  /** The sandbox on its own port, at the host root. */
  let own: LoopbackServer;

  beforeAll(async () => {
    sandbox = createSandbox();
    const root = new Hono();
    root.route('/sandbox', sandbox.app);
    mounted = await serveOnLoopback(root.fetch);
    own = await serveOnLoopback(sandbox.app.fetch);
  });
  afterAll(async () => {
    await mounted?.close();
    await own?.close();
  });

  it('refuses a 64 MB chunked body to /sandbox/token with 413 once past the OAuth limit, without reading it all', async () => {
    const answer = await post(`${mounted.url}/sandbox/token`, { total: SIXTY_FOUR_MB });
    expect(answer.status).toBe(413);
    expect(googleMessage(answer)).toBe(`Request payload size exceeds the limit: ${OAUTH_MAX_BODY_BYTES} bytes.`);
    // The answer came while the body was still streaming: the limit plus what the sockets buffer.
    expect(answer.sent).toBeLessThan(16 * 1024 * 1024);
  }, 30_000);

  it('refuses the same on its own port, at the host root', async () => {
    const answer = await post(`${own.url}/token`, { total: SIXTY_FOUR_MB });
    expect(answer.status).toBe(413);
    expect(answer.sent).toBeLessThan(16 * 1024 * 1024);
  }, 30_000);

  it('refuses a declared Content-Length over the limit before the body is sent', async () => {
    const token = await post(`${mounted.url}/sandbox/token`, { total: 0, contentLength: OAUTH_MAX_BODY_BYTES + 1 });
    expect(token.status).toBe(413);
    const upload = await post(`${own.url}/upload/gmail/v1/users/me/messages?uploadType=media`, {
      total: 0,
      contentLength: GMAIL_MAX_BODY_BYTES + 1,
      headers: { 'content-type': 'message/rfc822' },
    });
    expect(upload.status).toBe(413);
    expect(googleMessage(upload)).toBe(`Request payload size exceeds the limit: ${GMAIL_MAX_BODY_BYTES} bytes.`);
  });

  it('takes a Gmail message far larger than an OAuth form, as a chunked upload', async () => {
    const { access_token } = sandbox.state.oauth.issueTokenDirectly({ email: 'john.doe@example.com', scopes: [MAIL] });
    const headers = 'From: a@b.example\r\nTo: john.doe@example.com\r\nSubject: Big upload\r\n\r\n';
    const message = `${headers}${`${'z'.repeat(998)}\r\n`.repeat(1_000)}`;
    const response = await fetch(`${own.url}/upload/gmail/v1/users/me/messages?uploadType=media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'message/rfc822' },
      body: new Blob([message]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(message.length).toBeGreaterThan(OAUTH_MAX_BODY_BYTES * 10);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: expect.any(String) });
  });
});
