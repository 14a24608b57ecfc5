import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectFlow } from '../src/accounts/connect-flow.js';
import { ConnectedAccounts } from '../src/accounts/connected-accounts.js';
import { SigningKeys } from '../src/auth/signing-keys.js';
import { ChangeFeed } from '../src/cache/change-feed.js';
import { ScopedCache } from '../src/cache/scoped-cache.js';
import { Connections } from '../src/connections/connections.js';
import { TokenVault } from '../src/connections/token-vault.js';
import { UsageMarks } from '../src/db/usage-marks.js';
import { ToolCallLog } from '../src/execution/call-log.js';
import { ToolExecutor } from '../src/execution/executor.js';
import { McpConfigs } from '../src/mcp/configs.js';
import { McpInstances } from '../src/mcp/instances.js';
import { SessionTokens } from '../src/mcp/session-tokens.js';
import { McpTargets } from '../src/mcp/targets.js';
import { ToolSurface } from '../src/mcp/tool-surface.js';
import { OAuthClient } from '../src/oauth/client.js';
import { type Stack, startStack } from './support/stack.js';

/** Every service class the composition root builds, and the key it is published under. */
const SERVICE_CLASSES: [string, abstract new (...args: never[]) => unknown][] = [
  ['changes', ChangeFeed],
  ['usage', UsageMarks],
  ['oauth', OAuthClient],
  ['connections', Connections],
  ['vault', TokenVault],
  ['accounts', ConnectedAccounts],
  ['connectFlow', ConnectFlow],
  ['callLog', ToolCallLog],
  ['executor', ToolExecutor],
  ['mcpConfigs', McpConfigs],
  ['mcpInstances', McpInstances],
  ['mcpTargets', McpTargets],
  ['toolSurface', ToolSurface],
  ['sessionTokens', SessionTokens],
  ['signingKeys', SigningKeys],
];

/** Outside objects the walk does not enter: they hold no service of ours and are large. */
const OPAQUE_KEYS = new Set([
  'db',
  'logger',
  'catalog',
  'config',
  'fetch',
  'providerTransport',
  'sandbox',
  'encryptor',
]);

/** Every object reachable from `root` through properties (private fields included), once each. */
function reachable(root: object): Set<object> {
  const seen = new Set<object>();
  const queue: object[] = [root];
  while (queue.length) {
    const next = queue.pop() as object;
    if (seen.has(next)) continue;
    seen.add(next);
    if (next instanceof ScopedCache) continue; // its entries are data, not wiring
    for (const key of Object.getOwnPropertyNames(next)) {
      if (OPAQUE_KEYS.has(key)) continue;
      const value = (next as Record<string, unknown>)[key];
      if (value && typeof value === 'object' && !(value instanceof Map) && !(value instanceof Set)) queue.push(value);
    }
  }
  return seen;
}

describe('the composition root', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('builds every service exactly once, and every service uses that one instance of the others', () => {
    const objects = reachable(stack.services);
    const services = stack.services as unknown as Record<string, unknown>;
    for (const [key, type] of SERVICE_CLASSES) {
      const instances = [...objects].filter((o) => o instanceof type);
      expect(instances, `${type.name} instances`).toHaveLength(1);
      expect(instances[0], `services.${key}`).toBe(services[key]);
    }
  });

  it('registers each cache on the change feed once, and the edges register none of their own', async () => {
    const cachesOf = () => [...reachable(stack.services)].filter((o) => o instanceof ScopedCache);
    const registered = stack.services.changes.allCaches;
    expect(new Set(registered).size).toBe(registered.length);
    expect(new Set(cachesOf())).toEqual(new Set(registered));
    const before = registered.length;

    // Traffic through every surface that uses services: REST, MCP, dashboard, connect pages.
    await stack.api('GET', '/api/v1/connections');
    await stack.api('POST', '/api/v1/mcp/configs', { name: 'root-test' });
    await stack.fetch(`${stack.url}/mcp/c/cfg_missing`, { method: 'POST' });
    await stack.fetch(`${stack.url}/dashboard/sign-in`);
    await stack.fetch(`${stack.url}/connect/not-a-token`);
    expect(stack.services.changes.allCaches).toHaveLength(before);
  });
});
