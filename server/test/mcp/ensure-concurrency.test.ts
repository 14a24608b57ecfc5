import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { type ApiInstance, createSeedConfig } from './support.js';

describe('ensure instance on Postgres', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ engine: 'postgres' });
    await createSeedConfig(stack);
  });
  afterAll(() => stack?.close());

  it('creates exactly one instance under 50 concurrent calls', async () => {
    const calls = Array.from({ length: 50 }, () =>
      stack.api<{ instance: ApiInstance }>('POST', '/api/v1/mcp/instances', {
        config_name: 'reminder-manager',
        user_identifier: 'john-doe',
      }),
    );
    const results = await Promise.all(calls);
    expect(results.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => r.body.instance.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.body.instance.url)).size).toBe(1);
    const rows = await stack.db.db.selectFrom('mcp_instances').select('id').execute();
    expect(rows).toHaveLength(1);
  });
});
