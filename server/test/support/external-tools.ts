import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TOOLS_DIR = fileURLToPath(new URL('../../../.tools/', import.meta.url));

/**
 * Installs third-party tools that must not join the workspace (e.g. a Node 22 binary, whose
 * `node` bin would shadow the project's Node in npm scripts) into `.tools/<name>`, once.
 * Returns the directory holding their node_modules.
 */
export async function installExternalTools(name: string, packages: string[]): Promise<string> {
  const dir = join(TOOLS_DIR, name);
  const marker = join(dir, `.installed-${packages.join('+').replace(/[^a-z0-9.@+-]/gi, '_')}`);
  if (existsSync(marker)) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
  await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', ...packages], { cwd: dir, timeout: 300_000 });
  writeFileSync(marker, '');
  return dir;
}
