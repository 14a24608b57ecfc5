#!/usr/bin/env node
import { CommandError } from './commands/command-error.js';
import { CLI, DEFAULT_DATA_DIR } from './commands/invocation.js';
import { ConfigError } from './config.js';
import { StartupError } from './errors.js';

const USAGE = `${CLI} start|demo|clients|connections|keys|help [options]`;

const HELP = `switchboard — agent auth and MCP gateway

Usage:
  ${CLI} start [--port N] [--tls-self-signed]            run the server (embedded SQLite and sandbox by default)
  ${CLI} demo [--auto-consent] [--serve]                 the reminder-agent workflow on an embedded server (npm start)
  ${CLI} clients list|create|revoke|rotate-secret        management API credentials
  ${CLI} connections list|create                         connections, on a running server
  ${CLI} keys reencrypt                                  re-seal stored secrets with the current key
  ${CLI} <command> --help                                a command's options; nothing else happens

Data: every command takes --data-dir DIR (default: SWITCHBOARD_DATA_DIR, or ${DEFAULT_DATA_DIR}); the demo
keeps its own in ${DEFAULT_DATA_DIR}/demo, so reach its server with --data-dir ${DEFAULT_DATA_DIR}/demo.
Configuration comes from the environment: PORT, SWITCHBOARD_PUBLIC_URL, DATABASE_URL,
SWITCHBOARD_ENCRYPTION_KEY, SWITCHBOARD_ALLOWED_ORIGINS, SWITCHBOARD_LOG_LEVEL, … (see README).`;

type Command = (env: Record<string, string | undefined>, args: string[]) => Promise<unknown>;

/** Loaded on use, so `--help` of one command opens nothing of another. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./commands/start.js')).startCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  clients: async () => (await import('./commands/clients.js')).clientsCommand,
  connections: async () => (await import('./commands/connections.js')).connectionsCommand,
  keys: async () => (await import('./commands/keys.js')).keysCommand,
};

function fail(message: string, hint?: string, usage?: string): never {
  process.stderr.write(`error: ${message}\n${usage ? `usage: ${usage}\n` : ''}${hint ? `hint: ${hint}\n` : ''}`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  // `switchboard help clients` = `switchboard clients --help`.
  if (command === 'help') {
    const [topic] = rest;
    if (topic === undefined) {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    return main([topic, '--help']);
  }
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!load) {
    const what = command.startsWith('-') ? 'option' : 'command';
    throw new CommandError(`unknown ${what} "${command}"`, `run \`${CLI} --help\``, USAGE);
  }
  await (await load())(process.env, rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.message, 'fix the environment variables above and start again');
  if (error instanceof CommandError) fail(error.message, error.hint, error.usage);
  if (error instanceof StartupError) fail(error.message, error.hint);
  fail(error instanceof Error ? error.message : String(error));
});
