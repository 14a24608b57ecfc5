import type { KyselyPlugin, RootOperationNode } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/database.js';
import { type Stack, startStack } from '../support/stack.js';
import { createSeedConfig, ensureInstance, rawPost, readRpc } from './support.js';

/**
 * The tables each SELECT reads, in order, while `recording` is on (the change feed's poll left
 * out). Recorded as each one runs, not as it is compiled: the cold instance lookup is compiled
 * once and run many times.
 */
function selectRecorder() {
  const state = { recording: false, selects: [] as string[][] };
  const tablesById = new WeakMap<object, string[]>();
  const tablesOf = (node: RootOperationNode): string[] => {
    const names = new Set<string>();
    const visit = (value: unknown): void => {
      if (!value || typeof value !== 'object') return;
      const record = value as Record<string, unknown>;
      if (record.kind === 'TableNode') {
        const table = record.table as { identifier?: { name?: string } } | undefined;
        if (table?.identifier?.name) names.add(table.identifier.name);
      }
      for (const child of Object.values(record)) {
        if (Array.isArray(child)) for (const item of child) visit(item);
        else visit(child);
      }
    };
    visit(node);
    return [...names];
  };
  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      if (node.kind === 'SelectQueryNode') tablesById.set(queryId, tablesOf(node));
      return node;
    },
    transformResult: async ({ result, queryId }) => {
      const tables = tablesById.get(queryId);
      if (state.recording && tables && !tables.includes('change_versions')) state.selects.push(tables);
      return result;
    },
  };
  return { state, plugin };
}

const fetchMails = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'gmail_fetch_mails', arguments: { max_results: 1 } },
});

describe.each(ENGINES)("a user's first MCP call on %s", (engine) => {
  let stack: Stack;
  let database: TestDatabase | undefined;
  let url: string;
  let otherUrl: string;
  let accountId: string;
  let configId: string;
  const recorder = selectRecorder();

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    stack = await startStack({ database: { ...database, db: database.db.withPlugin(recorder.plugin) } });
    configId = (await createSeedConfig(stack)).id;
    accountId = await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    url = (await ensureInstance(stack, 'reminder-manager', 'john-doe')).url as string;
    await stack.connectAccount('MY_GMAIL', 'jane-doe', 'john.doe@example.com');
    otherUrl = (await ensureInstance(stack, 'reminder-manager', 'jane-doe')).url as string;
  });
  // The stack closes only a database it made itself.
  afterAll(async () => {
    await stack?.close();
    await database?.close();
  });

  /** One tools/call through an instance URL, the SELECTs it made, and the mail it read. */
  async function call(instanceUrl = url): Promise<{ selects: string[][]; text: string }> {
    recorder.state.selects = [];
    recorder.state.recording = true;
    try {
      const answer = await readRpc(
        await rawPost(stack, instanceUrl, fetchMails, { 'mcp-protocol-version': '2025-06-18' }),
      );
      const result = answer.result as { content?: { text?: string }[]; isError?: boolean };
      expect(result.isError).toBeFalsy();
      return { selects: recorder.state.selects, text: result.content?.[0]?.text ?? '' };
    } finally {
      recorder.state.recording = false;
    }
  }

  /**
   * Empties the instance, config and account caches as any admin write to a config does, then
   * warms what every user of the config shares with another user's call: john-doe's next
   * call is a user's first call on a running server.
   */
  async function coldCaches(): Promise<void> {
    const updated = await stack.api('PUT', `/api/v1/mcp/configs/${configId}`, {
      description: `touched ${Date.now()}`,
    });
    expect(updated.status).toBe(200);
    await call(otherUrl);
  }

  it("reads only the user's own rows in one query, then none: the config and its connections are shared", async () => {
    await coldCaches();
    const cold = await call();
    expect(cold.text).toContain('john.doe@example.com');
    expect(cold.selects, JSON.stringify(cold.selects)).toHaveLength(1);
    expect(cold.selects[0]).toEqual(
      expect.arrayContaining(['mcp_instances', 'mcp_config_mappings', 'connected_accounts']),
    );
    expect(cold.selects[0]).not.toContain('mcp_configs');
    expect(cold.selects[0]).not.toContain('connections');

    const warm = await call();
    expect(warm.selects).toEqual([]);
  });

  it('reads instance, config, mappings, connections and account in one query when no config is cached', async () => {
    stack.services.changes.forget(['mcp']);
    const cold = await call();
    expect(cold.text).toContain('john.doe@example.com');
    // (Beside it, the config's access rule, which the mcp scope also holds.)
    const lookups = cold.selects.filter((tables) => tables.includes('mcp_instances'));
    expect(lookups, JSON.stringify(cold.selects)).toHaveLength(1);
    expect(lookups[0]).toEqual(
      expect.arrayContaining([
        'mcp_instances',
        'mcp_configs',
        'mcp_config_mappings',
        'connections',
        'connected_accounts',
      ]),
    );
    expect((await call()).selects).toEqual([]);
  });

  it('decrypts the token from the row that query read, when no grant is cached', async () => {
    await coldCaches();
    stack.services.vault.forget(accountId);
    const cold = await call();
    expect(cold.text).toContain('john.doe@example.com');
    expect(cold.selects).toHaveLength(1);
  });
});
