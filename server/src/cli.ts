#!/usr/bin/env node
import { CommandError } from './commands/command-error.js';
import { ConfigError } from './config.js';
import { startServer } from './main.js';

const HELP = `switchboard — agent auth and MCP gateway

Usage:
  switchboard start              start the server (embedded SQLite and sandbox by default)
  switchboard clients list|create|revoke|rotate-secret   management API credentials
  switchboard keys reencrypt     re-encrypt stored secrets with the current encryption key
  switchboard connections list|create   list or create connections on a running server
  switchboard demo [--auto-consent]     the reminder-agent workflow on an embedded server and sandbox
  switchboard --help             this help

Configuration comes from the environment: PORT, SWITCHBOARD_PUBLIC_URL, DATABASE_URL,
SWITCHBOARD_DATA_DIR, SWITCHBOARD_ENCRYPTION_KEY, SWITCHBOARD_LOG_LEVEL (see README).`;

function fail(message: string, hint?: string): never {
  process.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
  process.exit(1);
}

async function start(): Promise<void> {
  const running = await startServer(process.env, {
    onAdminCreated: (client, file) => {
      process.stdout.write(
        [
          '',
          'First start: created an admin API client. Its secret is shown only this once:',
          `  client_id:     ${client.client_id}`,
          `  client_secret: ${client.client_secret}`,
          file
            ? `  (also written to ${file}, mode 0600)`
            : '  (production mode: written nowhere; keep it in your secret manager now)',
          '',
        ].join('\n'),
      );
    },
  });
  process.stdout.write(`Switchboard is ready at ${running.config.publicUrl}\n`);
  const shutdown = (signal: string) => {
    running.logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [command, sub] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (command === 'start') return start();
  if (command === 'clients') {
    const { clientsCommand } = await import('./commands/clients.js');
    return clientsCommand(process.env, argv.slice(1));
  }
  if (command === 'keys' && sub === 'reencrypt') {
    const { reencryptCommand } = await import('./commands/keys.js');
    return reencryptCommand(process.env);
  }
  if (command === 'connections') {
    const { connectionsCommand } = await import('./commands/connections.js');
    return connectionsCommand(process.env, argv.slice(1));
  }
  if (command === 'demo') {
    const { demoCommand } = await import('./commands/demo.js');
    await demoCommand(process.env, argv.slice(1));
    return;
  }
  fail(`unknown command "${argv.join(' ')}"`, 'run switchboard --help');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.message, 'fix the environment variables above and start again');
  if (error instanceof CommandError) fail(error.message, error.hint);
  fail(error instanceof Error ? error.message : String(error));
});
