import { type Stack, startStack } from '@switchboard/server/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Switchboard, SwitchboardError } from '../src/index.js';

describe('the SDK manages API clients', () => {
  let stack: Stack;
  let switchboard: Switchboard;
  const as = (clientId: string, clientSecret: string) =>
    new Switchboard({ url: stack.url, clientId, clientSecret, fetch: stack.fetch, sleep: async () => {} });

  beforeAll(async () => {
    stack = await startStack();
    switchboard = as(stack.admin.client_id, stack.admin.client_secret);
  });
  afterAll(() => stack?.close());

  it('creates a read-only client that can read but not write, rotates its secret and revokes it', async () => {
    const issued = await switchboard.clients.create({ name: 'sdk-reader', scope: 'read' });
    expect(issued).toMatchObject({ name: 'sdk-reader', scope: 'read' });
    expect(issued).not.toHaveProperty('revoked_at');
    expect((await switchboard.clients.list()).clients.map((c) => c.id)).toContain(issued.id);
    expect(await switchboard.clients.get(issued.client_id)).not.toHaveProperty('client_secret');

    const reader = as(issued.client_id, issued.client_secret);
    await expect(reader.connections.list()).resolves.toMatchObject({ connections: [] });
    const refused = await reader.connections.create({ name: 'NOPE', provider: 'gmail' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SwitchboardError);
    expect((refused as SwitchboardError).code).toBe('forbidden');

    const rotated = await switchboard.clients.rotateSecret(issued.id);
    expect(rotated.client_secret).not.toBe(issued.client_secret);
    await expect(as(issued.client_id, rotated.client_secret).connections.list()).resolves.toBeDefined();

    const revoked = await switchboard.clients.revoke(issued.id);
    expect(revoked.revoked_at).toBeTruthy();
    await expect(as(issued.client_id, rotated.client_secret).connections.list()).rejects.toBeInstanceOf(
      SwitchboardError,
    );
  });
});
