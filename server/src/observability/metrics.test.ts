import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.js';

/** The lines of one metric family in a scrape, in order. */
const family = (text: string, name: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith(`${name}_`) || line.startsWith(`${name}{`) || line.includes(` ${name} `));

/** Calls as toolCall takes them: tool, provider, source, outcome, total ms, provider ms. */
const CALLS: [string | undefined, string | undefined, 'API' | 'MCP' | 'GRPC', string, number, number][] = [
  ['gmail_fetch_mails', 'gmail', 'MCP', 'success', 120.5, 118],
  ['gmail_fetch_mails', 'gmail', 'MCP', 'success', 3.2, 2.9],
  ['gmail_fetch_mails', 'gmail', 'API', 'provider_timeout', 30_020, 30_000],
  ['googlecalendar_create_event', 'googlecalendar', 'GRPC', 'success', 41, 40.75],
  // Exactly on bucket bounds (own 0.5 ms, 1 ms; provider 5 ms): a bound is "less than or equal".
  ['googlecalendar_create_event', 'googlecalendar', 'GRPC', 'success', 5.5, 5],
  ['gmail_fetch_mails', 'gmail', 'MCP', 'success', 6, 5],
  [undefined, undefined, 'MCP', 'tool_not_found', 0.2, 0],
  // Over every bucket: only +Inf counts it.
  ['gmail_fetch_mails', 'gmail', 'API', 'success', 5_000, 60_000],
];

describe('tool call metrics', () => {
  it("scrape exactly as prom-client's own counter and histograms of the same calls would", async () => {
    const metrics = new Metrics();
    // The judge: prom-client's classes, fed the same calls through their own label API.
    const judge = new Registry();
    const calls = new Counter({
      name: 'switchboard_tool_calls_total',
      help: 'Tool calls by tool, provider, source (API, MCP, GRPC) and outcome (success, or the error code)',
      labelNames: ['tool', 'provider', 'source', 'outcome'],
      registers: [judge],
    });
    const own = new Histogram({
      name: 'switchboard_tool_call_own_seconds',
      help: "Switchboard's own time in a tool call: the call's duration less the time spent waiting for the provider",
      labelNames: ['source'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [judge],
    });
    const provider = new Histogram({
      name: 'switchboard_tool_call_provider_seconds',
      help: "The provider's time in a tool call (every HTTP request the call made, retries included)",
      labelNames: ['provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [judge],
    });
    for (const [tool, providerName, source, outcome, totalMs, providerMs] of CALLS) {
      metrics.toolCall(tool, providerName, source, outcome, totalMs, providerMs);
      calls.inc({ tool: tool ?? 'unknown', provider: providerName ?? 'unknown', source, outcome });
      own.observe({ source }, Math.max(0, totalMs - providerMs) / 1000);
      if (providerMs > 0) provider.observe({ provider: providerName ?? 'unknown' }, providerMs / 1000);
    }

    const ours = await metrics.scrape();
    const theirs = await judge.metrics();
    for (const name of [
      'switchboard_tool_calls_total',
      'switchboard_tool_call_own_seconds',
      'switchboard_tool_call_provider_seconds',
    ]) {
      expect(family(ours, name).length).toBeGreaterThan(4);
      expect(family(ours, name)).toEqual(family(theirs, name));
    }
    // The JSON form too (getMetricsAsJSON reads get(), not the text path).
    const json = async (registry: Registry, name: string) =>
      (await registry.getMetricsAsJSON()).find((metric) => metric.name === name);
    for (const name of ['switchboard_tool_call_own_seconds', 'switchboard_tool_call_provider_seconds']) {
      const mine = await json(metrics.registry, name);
      const judged = await json(judge, name);
      // prom-client's own values carry `exemplar: null` (exemplars are off here); the rest must be the same.
      const withoutExemplar = (values: object[] = []) =>
        values.map((value) => Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'exemplar')));
      expect(mine?.values.length).toBeGreaterThan(10);
      expect(withoutExemplar(mine?.values)).toEqual(withoutExemplar(judged?.values));
      expect(mine?.type).toBe(judged?.type);
    }
  });

  it('forgets every series on reset, as a registry reset asks', async () => {
    const metrics = new Metrics();
    metrics.toolCall('gmail_fetch_mails', 'gmail', 'MCP', 'success', 10, 8);
    expect(await metrics.scrape()).toContain('switchboard_tool_call_own_seconds_count{source="MCP"} 1');
    metrics.registry.resetMetrics();
    const text = await metrics.scrape();
    expect(text).not.toContain('switchboard_tool_call_own_seconds_count{source="MCP"}');
    expect(text).not.toContain('switchboard_tool_call_provider_seconds_count');
    metrics.toolCall('gmail_fetch_mails', 'gmail', 'MCP', 'success', 10, 8);
    expect(await metrics.scrape()).toContain('switchboard_tool_call_own_seconds_count{source="MCP"} 1');
  });
});
