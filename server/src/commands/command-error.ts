/**
 * A command failure the user can fix: the CLI prints `error: message`, then `usage: …` and
 * `hint: hint` when given, nothing else.
 */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/**
 * Runs node:util parseArgs, turning its errors (unknown option, missing value) into one line,
 * the command's usage line and a hint.
 */
export function parseOptions<T>(parse: () => T, help: string, usage?: string): T {
  try {
    return parse();
  } catch (error) {
    throw new CommandError(error instanceof Error ? error.message : String(error), `see \`${help}\``, usage);
  }
}
