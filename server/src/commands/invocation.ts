import { isAbsolute, relative, resolve } from 'node:path';

/**
 * How every usage line, hint and doc names the CLI: the bin `npm ci` links from this
 * repository's workspace, so npx never asks the public registry for a package of that name.
 */
export const CLI = 'npx switchboard';

/** The data directory a command uses when neither `--data-dir` nor SWITCHBOARD_DATA_DIR names one. */
export const DEFAULT_DATA_DIR = '.data';

/**
 * `npx switchboard <args>` as it must be typed to reach the same data: with `--data-dir` when
 * `dataDir` is not the default one, so a printed hint works when pasted in the same folder.
 */
export function cliCommand(args: string, dataDir?: string): string {
  if (dataDir === undefined || resolve(dataDir) === resolve(DEFAULT_DATA_DIR)) return `${CLI} ${args}`;
  const shown = relative(process.cwd(), resolve(dataDir));
  const path = shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : resolve(dataDir);
  return `${CLI} ${args} --data-dir ${/[\s'"$`\\]/.test(path) ? `'${path.replaceAll("'", `'\\''`)}'` : path}`;
}

/** The environment with `--data-dir` applied: config.ts stays the only reader of the variables. */
export function withDataDir(
  env: Record<string, string | undefined>,
  dataDir: string | undefined,
): Record<string, string | undefined> {
  return dataDir === undefined ? env : { ...env, SWITCHBOARD_DATA_DIR: dataDir };
}
