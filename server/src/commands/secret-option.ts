import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { CommandError } from './command-error.js';

/** The file name that stands for standard input in a `--…-file` option. */
export const STDIN_PATH = '-';

/**
 * A secret given as `--NAME SECRET` (kept for compatibility: `ps` and the shell history show
 * it to others) or as `--NAME-file PATH`, PATH `-` reading `stdin` to its end. Surrounding
 * whitespace goes: `echo` and editors end a file with a newline. Errors name the option and
 * the path, never what was read.
 */
export async function readSecretOption(
  name: string,
  given: { value?: string; file?: string },
  stdin: () => Readable,
): Promise<string | undefined> {
  if (given.value !== undefined && given.file !== undefined) {
    throw new CommandError(
      `give --${name}-file or --${name}, not both`,
      `drop --${name}: a secret on the command line is visible to other local users (ps)`,
    );
  }
  if (given.file === undefined) return given.value;
  const from = given.file === STDIN_PATH ? 'standard input' : given.file;
  let text: string;
  try {
    text = given.file === STDIN_PATH ? await readToEnd(stdin()) : await readFile(given.file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CommandError(
      `could not read --${name}-file ${from}${code ? ` (${code})` : ''}`,
      `give the path of a file that holds only the secret, or - to read it from standard input`,
    );
  }
  const secret = text.trim();
  if (secret === '') {
    throw new CommandError(
      `--${name}-file ${from} is empty`,
      given.file === STDIN_PATH
        ? `pipe the secret in, e.g. \`printf %s "$SECRET" | … --${name}-file -\``
        : `write the secret into ${given.file}, or pass - and pipe it to standard input`,
    );
  }
  return secret;
}

async function readToEnd(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
