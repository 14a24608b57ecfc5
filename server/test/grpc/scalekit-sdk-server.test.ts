import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScalekitClient, ScalekitNotFoundException, ScalekitToolException } from '@scalekit-sdk/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/main.js';
import { followSandboxConsent, freePort, TEST_ENCRYPTION_KEY } from '../support/index.js';

/**
 * The unmodified Node SDK against `switchboard start` itself: h2c with prior knowledge on an
 * http:// URL, TLS with ALPN h2 on an https:// one (a self-signed localhost certificate), the
 * token fetch as HTTP/1.1 on the same port either way.
 */
for (const mode of ['cleartext', 'tls'] as const) {
  describe(`Scalekit official Node SDK 2.11.0 against switchboard start (${mode})`, () => {
    let running: RunningServer;
    let dataDir: string;
    let scalekit: ScalekitClient;
    let url: string;
    const previousRejectUnauthorized = process.env.NODE_TLS_REJECT_UNAUTHORIZED;

    beforeAll(async () => {
      // The SDK builds its own transport: in the test it trusts the self-signed certificate this way.
      if (mode === 'tls') process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      dataDir = mkdtempSync(join(tmpdir(), `switchboard-grpc-${mode}-`));
      running = await startServer({
        // A real port, not 0: links carry the public URL, which is made from PORT.
        PORT: String(await freePort()),
        SWITCHBOARD_DATA_DIR: dataDir,
        SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        SWITCHBOARD_LOG_LEVEL: 'silent',
        ...(mode === 'tls' ? { SWITCHBOARD_TLS_SELF_SIGNED: 'true' } : {}),
      });
      url = running.url.replace('127.0.0.1', 'localhost');
      const admin = running.adminClient;
      if (!admin) throw new Error('no admin client was created');
      scalekit = new ScalekitClient(url, admin.client_id, admin.client_secret);
      const token = await scalekit.getClientAccessToken();
      for (const [name, provider] of [
        ['MY_GMAIL', 'gmail'],
        ['MY_CALENDAR', 'googlecalendar'],
      ]) {
        const created = await fetch(`${url}/api/v1/connections`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name, provider }),
        });
        expect(created.status, await created.clone().text()).toBe(201);
      }
    }, 30_000);

    afterAll(async () => {
      await running?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (previousRejectUnauthorized === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previousRejectUnauthorized;
    });

    it('lists connections, gets or creates an account, connects it, reads john-doe’s mail, calls Gmail through actions.request, then deletes it', async () => {
      const listed = await scalekit.actions.listConnections();
      expect(listed.connections.map((c) => c.connectionName).sort()).toEqual(['MY_CALENDAR', 'MY_GMAIL']);

      const created = await scalekit.actions.getOrCreateConnectedAccount({
        connectionName: 'MY_GMAIL',
        identifier: 'john-doe',
      });
      expect(created.connectedAccount?.status).toBe(3); // PENDING_AUTH
      const { link } = await scalekit.actions.getAuthorizationLink({
        connectionName: 'MY_GMAIL',
        identifier: 'john-doe',
      });
      expect(new URL(link).port).toBe(new URL(url).port);
      const done = await followSandboxConsent(link);
      expect(done.status, await done.clone().text()).toBe(200);

      const mail = await scalekit.actions.executeTool({
        toolName: 'gmail_fetch_mails',
        toolInput: { max_results: 3 },
        identifier: 'john-doe',
        connector: 'MY_GMAIL',
      });
      expect((mail.data as { messages: unknown[] }).messages.length).toBeGreaterThan(0);

      const toolError = await scalekit.actions
        .executeTool({
          toolName: 'gmail_get_message_by_id',
          toolInput: { message_id: 'no-such-message' },
          identifier: 'john-doe',
          connector: 'MY_GMAIL',
        })
        .catch((e: unknown) => e);
      expect(toolError).toBeInstanceOf(ScalekitToolException);

      // actions.request: plain HTTP through /proxy, with the token the gRPC calls fetched.
      const listedMail = await scalekit.actions.request({
        connectionName: 'MY_GMAIL',
        identifier: 'john-doe',
        path: '/gmail/v1/users/me/messages',
        queryParams: { maxResults: 2 },
      });
      expect(listedMail.status).toBe(200);
      expect((listedMail.data as { messages: unknown[] }).messages).toHaveLength(2);
      const label = await scalekit.actions.request({
        connectionName: 'MY_GMAIL',
        identifier: 'john-doe',
        path: 'gmail/v1/users/me/labels',
        method: 'post',
        body: { name: `Proxied over ${mode}` },
      });
      expect(label.data).toMatchObject({ name: `Proxied over ${mode}` });
      const providerMissing = await scalekit.actions
        .request({ connectionName: 'MY_GMAIL', identifier: 'john-doe', path: '/gmail/v1/users/me/messages/none' })
        .catch((e: unknown) => e);
      expect(providerMissing).toBeInstanceOf(ScalekitNotFoundException);
      const unknownAccount = await scalekit.actions
        .request({ connectionName: 'MY_GMAIL', identifier: 'nobody-here', path: '/gmail/v1/users/me/profile' })
        .catch((e: unknown) => e);
      expect(unknownAccount).toBeInstanceOf(ScalekitNotFoundException);

      await scalekit.actions.deleteConnectedAccount({ connectionName: 'MY_GMAIL', identifier: 'john-doe' });
      const gone = await scalekit.actions
        .getConnectedAccount({ connectionName: 'MY_GMAIL', identifier: 'john-doe' })
        .catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(ScalekitNotFoundException);
    });
  });
}
