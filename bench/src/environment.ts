import { createCatalog } from '@switchboard/server';
import { BenchSchema } from './postgres.js';
import {
  Admin,
  type Sandbox,
  type Switchboard,
  type SwitchboardOptions,
  startSandbox,
  startSwitchboard,
} from './stack.js';

/** The metrics bearer the bench starts Switchboard with, to read its /metrics (event-loop delay, GC, lookups). */
export const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef';

/**
 * A Switchboard's /metrics, read with the bench's bearer. A GET, so tried once more when a
 * keep-alive socket the server closed took it just as it went out.
 */
export async function readMetrics(origin: string): Promise<{ status: number; text: string }> {
  const scrape = () => fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } });
  const response = await scrape().catch(scrape);
  return { status: response.status, text: await response.text() };
}

export type Engine = 'sqlite' | 'postgres';

/** A sandbox and one Switchboard on `engine`, both child processes, set up through the REST API. */
export class BenchStack {
  private constructor(
    readonly engine: Engine,
    readonly sandbox: Sandbox,
    readonly server: Switchboard,
    readonly admin: Admin,
    readonly schema: BenchSchema | undefined,
  ) {}

  static async start(
    engine: Engine,
    options: SwitchboardOptions & { sandboxTtlSeconds?: number } = {},
  ): Promise<BenchStack> {
    const sandbox = await startSandbox({ ttlSeconds: options.sandboxTtlSeconds });
    const schema = engine === 'postgres' ? await BenchSchema.create('s') : undefined;
    const server = await startSwitchboard({ ...options, sandboxUrl: sandbox.url, databaseUrl: schema?.databaseUrl });
    return new BenchStack(engine, sandbox, server, await Admin.forServer(server, schema?.databaseUrl), schema);
  }

  /** Instance URLs of `users` users of `config`, every mapped connection consented. */
  async connectedUsers(config: string, prefix: string, users: number): Promise<{ id: string; url: string }[]> {
    const out = [];
    for (let i = 0; i < users; i++) {
      const instance = await this.admin.ensureInstance(config, `${prefix}-${i}`);
      await this.admin.connectAll(instance.id);
      out.push(instance);
    }
    return out;
  }

  async accountIdsOf(identifier: string): Promise<string[]> {
    const body = await this.admin.must<{ connected_accounts: { id: string }[] }>(
      'GET',
      `/api/v1/connected_accounts?identifier=${encodeURIComponent(identifier)}`,
    );
    return body.connected_accounts.map((account) => account.id);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.sandbox.stop();
    this.server.removeDataDir();
    await this.schema?.drop();
  }
}

/**
 * 25 connections whose mappings together expose every tool of the catalog: each provider's
 * tools are dealt out over that provider's connections, since one MCP server cannot list
 * the same tool name twice.
 */
export function wideMappings(connections = 25): { name: string; provider: string; tools: string[] }[] {
  const catalog = createCatalog();
  const providers = [...catalog.providers.values()];
  const totalTools = providers.reduce((n, p) => n + p.tools.length, 0);
  const out: { name: string; provider: string; tools: string[] }[] = [];
  let left = connections;
  providers.forEach((provider, index) => {
    const share =
      index === providers.length - 1
        ? left
        : Math.max(1, Math.round((connections * provider.tools.length) / totalTools));
    left -= share;
    for (let i = 0; i < share; i++) {
      const tools = provider.tools.filter((_, t) => t % share === i).map((t) => t.name);
      out.push({ name: `${provider.name.toUpperCase()}_${i}`, provider: provider.name, tools });
    }
  });
  return out;
}
