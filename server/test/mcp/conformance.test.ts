import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { createSeedConfig, ensureInstance } from './support.js';

const run = promisify(execFile);

const expected = JSON.parse(readFileSync(new URL('./conformance-expected-failures.json', import.meta.url), 'utf8')) as {
  server: Record<string, string>;
};

describe('the official MCP conformance suite (@modelcontextprotocol/conformance 0.1.13)', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    stack = await startStack({ listen: true });
    dir = mkdtempSync(join(tmpdir(), 'switchboard-conformance-'));
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes every server scenario that applies to a gateway, against an instance URL', async () => {
    await createSeedConfig(stack);
    await stack.connectAccount('MY_GMAIL', 'john-doe', 'john.doe@example.com');
    const instance = await ensureInstance(stack, 'reminder-manager', 'john-doe');
    // The CLI reads its baseline as YAML: one list of scenario names per mode.
    const baseline = join(dir, 'expected-failures.yml');
    writeFileSync(
      baseline,
      `server:\n${Object.keys(expected.server)
        .map((name) => `  - ${name}`)
        .join('\n')}\n`,
    );
    const outcome = await run(
      'npx',
      [
        'conformance',
        'server',
        '--url',
        instance.url,
        '--suite',
        'all',
        '--expected-failures',
        baseline,
        '-o',
        join(dir, 'results'),
      ],
      { cwd: process.cwd(), timeout: 240_000, maxBuffer: 32 * 1024 * 1024 },
    ).then(
      (done) => ({ code: 0, stdout: done.stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? 1,
        stdout: `${error.stdout}\n${error.stderr}`,
      }),
    );
    const summary = outcome.stdout.slice(outcome.stdout.indexOf('=== SUMMARY ==='));
    // Exit 0 means: no scenario outside the baseline failed, and none inside it passed.
    expect(outcome.code, summary).toBe(0);
    for (const scenario of ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection']) {
      expect(summary).toMatch(new RegExp(`✓ ${scenario}: \\d+ passed, 0 failed`));
    }
  }, 300_000);
});
