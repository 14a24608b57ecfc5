#!/usr/bin/env node
// Checked in, unlike dist/: `npm ci` links a workspace's bin only when its file exists at
// link time, and it runs before the build. Without this file `npx switchboard` would ask the
// public registry for a package of that name.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    'error: Switchboard is not built yet (server/dist/cli.js is missing)\nhint: run `npm run build` at the root of the repository, then try again\n',
  );
  process.exit(1);
}
await import(cli.href);
