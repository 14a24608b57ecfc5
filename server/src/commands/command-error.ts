/** A command failure the user can fix: the CLI prints `error: message` and `hint: hint`, nothing else. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Runs node:util parseArgs, turning its errors (unknown option, missing value) into one line and a hint. */
export function parseOptions<T>(parse: () => T, help: string): T {
  try {
    return parse();
  } catch (error) {
    throw new CommandError(error instanceof Error ? error.message : String(error), `see \`${help}\``);
  }
}
