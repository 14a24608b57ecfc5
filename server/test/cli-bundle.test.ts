import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/process.js';

/** What the bundle may still load from outside itself (server/bundle-cli.mjs's `external`). */
const EXTERNAL = new Set(['better-sqlite3', 'pg-native']);

/**
 * Every module a file of the bundle loads: its static imports and re-exports (esbuild writes
 * them at the start of a line), import() and esbuild's __require() of what it left outside.
 * Comments and strings of bundled packages name modules too (undici's JSDoc, ajv's code
 * generator), in single quotes where esbuild writes double ones: this reads only the forms
 * esbuild emits.
 */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const pattern of [
    /^(?:import|export)\s[^"]*?\bfrom\s*"([^"]+)"/gm,
    /^import\s*"([^"]+)"/gm,
    /\bimport\(\s*"([^"]+)"\s*\)/g,
    /\b__require\(\s*"([^"]+)"\s*\)/g,
  ]) {
    for (const match of source.matchAll(pattern)) if (match[1]) found.push(match[1]);
  }
  return found;
}

describe('the built CLI (dist/cli.js)', () => {
  const dist = dirname(CLI);
  const chunks = readdirSync(join(dist, 'cli-chunks')).filter((name) => name.endsWith('.js'));
  const files = [CLI, ...chunks.map((name) => join(dist, 'cli-chunks', name))];

  it('is a bundle: it and its chunks load nothing but Node, each other and the native externals', () => {
    const outside = new Set<string>();
    for (const file of files) {
      for (const name of specifiers(readFileSync(file, 'utf8'))) {
        // node: names only Node's own modules (node:sqlite, which undici loads on use, is newer than Node 20).
        if (isBuiltin(name) || name.startsWith('node:') || EXTERNAL.has(name)) continue;
        const chunk = name.startsWith('./') && name.endsWith('.js') ? name.replace(/^\.\/(cli-chunks\/)?/, '') : '';
        if (chunks.includes(chunk)) continue;
        outside.add(`${file.slice(dist.length + 1)} → ${name}`);
      }
    }
    expect([...outside]).toEqual([]);
    // The check sees what a bundle holds: the entry's own imports are chunks, not src/'s modules.
    expect(specifiers(readFileSync(CLI, 'utf8')).some((name) => name.startsWith('./cli-chunks/'))).toBe(true);
  });

  it('keeps a command in a chunk of its own, loaded on use', () => {
    const entry = readFileSync(CLI, 'utf8');
    for (const command of ['start', 'demo', 'clients', 'connections', 'keys']) {
      expect(entry, command).toMatch(
        new RegExp(`import\\(\\s*["']\\./cli-chunks/${command}-[A-Z0-9]+\\.js["']\\s*\\)`),
      );
    }
  });

  it('starts with its shebang, so bin/switchboard.js and `node dist/cli.js` both run it', () => {
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
