import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built harness, as `npm run bench` runs it (npm test builds first).
const harness = fileURLToPath(new URL('../dist/run.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [harness, ...args], { encoding: 'utf8' });

describe('the harness command line', () => {
  it('prints its usage on --help and measures nothing', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: node bench\/dist\/run\.js/);
    expect(result.stdout).not.toContain('Switchboard benchmarks');
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--only', 'overhead,latency'], /--only: no section "latency"/],
    [['--engines', 'mysql'], /--engines: no engine "mysql" \(sqlite, postgres\)/],
    [['--eras', '2024-11-05'], /--eras: no era "2024-11-05"/],
    [['--only'], /argument missing/],
  ])('stops on %j with what it could not take, the usage and exit code 2', (args, message) => {
    const result = run(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage: node bench/dist/run.js');
    expect(result.stdout).toBe('');
  });
});
