import { Code, type ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpService } from '../src/grpc/gen/scalekit/v1/mcp/mcp_pb.js';
import type { Listener } from '../src/listener/listen.js';
import { createSeedConfig, ensureInstance } from './mcp/support.js';
import { ENGINES } from './support/database.js';
import { listenOnLoopback } from './support/one-port.js';
import { type Stack, startStack } from './support/stack.js';

/**
 * An instance URL runs the config's tools (write tools included) as its user, so, as the
 * dashboard shows it to admin sessions only, the API gives it to admin clients only: a `read`
 * client lists and gets instances without it, on REST and gRPC alike.
 */
describe.each(ENGINES)('instance URLs and the read scope on %s', (engine) => {
  let stack: Stack;
  let listener: Listener;
  let readToken: string;
  let instance: { id: string; url: string };

  beforeAll(async () => {
    stack = await startStack({ engine });
    listener = await listenOnLoopback(stack);
    await createSeedConfig(stack);
    instance = await ensureInstance(stack, 'reminder-manager', 'john-doe');
    readToken = await stack.tokenOf(await stack.services.apiClients.create('instance-reader', 'read'));
  });

  afterAll(async () => {
    await listener?.close();
    await stack?.close();
  });

  const asReader = async (path: string) => {
    const response = await stack.fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${readToken}` } });
    expect(response.status).toBe(200);
    return { text: await response.clone().text(), body: (await response.json()) as Record<string, unknown> };
  };
  const grpc = (token: () => Promise<string>) => {
    const bearer: Interceptor = (next) => async (req) => {
      req.header.set('authorization', `Bearer ${await token()}`);
      return next(req);
    };
    return createClient(
      McpService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${listener.port}`, interceptors: [bearer] }),
    );
  };

  it('gives an admin client the URL that ensure answered, on REST list and get', async () => {
    expect(instance.url).toMatch(new RegExp(`^${stack.url}/mcp/i/`));
    const listed = await stack.api<{ instances: { url?: string }[] }>('GET', '/api/v1/mcp/instances');
    expect(listed.body.instances.map((i) => i.url)).toEqual([instance.url]);
    const got = await stack.api<{ instance: { url?: string } }>('GET', `/api/v1/mcp/instances/${instance.id}`);
    expect(got.body.instance.url).toBe(instance.url);
  });

  it('lists and gets instances for a read client on REST without their URL, by id or by user', async () => {
    for (const path of [
      '/api/v1/mcp/instances',
      '/api/v1/mcp/instances?filter.user_identifier=john-doe',
      `/api/v1/mcp/instances?filter.id=${instance.id}`,
    ]) {
      const { text, body } = await asReader(path);
      const instances = body.instances as Record<string, unknown>[];
      expect(instances.map((i) => i.id)).toEqual([instance.id]);
      expect(instances[0]).not.toHaveProperty('url');
      expect(text).not.toContain('/mcp/i/');
    }
    const { text, body } = await asReader(`/api/v1/mcp/instances/${instance.id}`);
    expect(body.instance).toMatchObject({ id: instance.id, user_identifier: 'john-doe' });
    expect(body.instance).not.toHaveProperty('url');
    expect(text).not.toContain('/mcp/i/');
  });

  it('answers a read client on gRPC with an empty url, and an admin one with the URL', async () => {
    const reader = grpc(async () => readToken);
    const listed = await reader.listMcpInstances({ filter: { userIdentifier: 'john-doe' } });
    expect(listed.instances.map((i) => [i.id, i.url])).toEqual([[instance.id, '']]);
    const got = await reader.getMcpInstance({ instanceId: instance.id });
    expect(got.instance?.id).toBe(instance.id);
    expect(got.instance?.url).toBe('');
    // Ensuring (which answers the URL) is a write: a read client may not.
    const ensure = await reader
      .ensureMcpInstance({ configName: 'reminder-manager', userIdentifier: 'john-doe' })
      .catch((e: unknown) => e);
    expect((ensure as ConnectError).code).toBe(Code.PermissionDenied);

    const admin = grpc(() => stack.token());
    expect((await admin.listMcpInstances({})).instances.map((i) => i.url)).toEqual([instance.url]);
    expect((await admin.getMcpInstance({ instanceId: instance.id })).instance?.url).toBe(instance.url);
    expect(
      (await admin.ensureMcpInstance({ configName: 'reminder-manager', userIdentifier: 'john-doe' })).instance?.url,
    ).toBe(instance.url);
  });
});
