import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { freePort as probeFreePort } from '../free-port.js';
import { type RunningServer, startServer } from '../main.js';
import { portListener } from '../port-listener.js';
import { readAdminCredentials } from './admin-credentials.js';
import { CommandError, parseOptions } from './command-error.js';
import { CLI, cliCommand, DEFAULT_DATA_DIR } from './invocation.js';

/** Apart from `start`'s: each run wipes it (see prepareDataDir). */
const DEMO_DATA_DIR = `${DEFAULT_DATA_DIR}/demo`;

const DEMO_USAGE = `${CLI} demo [--auto-consent] [--serve] [--port N] [--data-dir DIR] [--verbose]`;

export const DEMO_HELP = `${CLI} demo — the seed workflow on this machine, no accounts needed

Starts Switchboard with embedded SQLite and the sandbox (a local stand-in for Google), then
runs the reminder agent: connections MY_GMAIL and MY_CALENDAR, MCP config reminder-manager,
an instance for john-doe, consent, user verification (the demo plays the app's part: its
one-route verify handler confirms john-doe), and an agent that reads the latest email and books a
15-minute reminder in 15 minutes through the MCP URL.

Usage:
  ${DEMO_USAGE}

Options:
  --auto-consent   consent on the sandbox as john.doe@example.com instead of waiting for you
  --serve          keep Switchboard running after the demo (what \`npm start\` does); with no
                   terminal to answer in, the sandbox consent is given automatically
  --port N         listen on N (default: a free port; with --serve, 3000 when it is free)
  --data-dir DIR   where the demo keeps its database and keys (default: ${DEMO_DATA_DIR}, apart from
                   the ${DEFAULT_DATA_DIR} of \`${CLI} start\` because every run wipes it); other commands
                   reach the demo's server with the same option, e.g.
                   \`${CLI} clients create --data-dir ${DEMO_DATA_DIR}\`
  --verbose        show the server's logs
  --help           this help

With OPENAI_API_KEY set the agent uses OpenAI's model (needs @langchain/openai installed);
without it a scripted model plays the LLM's part, offline.`;

/** The part of the reminder-agent example the demo uses; loaded at run time, checked on load. */
interface ReminderAgentModule {
  Switchboard: new (options: { url: string; clientId: string; clientSecret: string }) => object;
  sandboxConsent(email: string): (link: string) => Promise<void>;
  USER: string;
  userVerifyHandler(options: {
    switchboard: object;
    signedInUser: (request: Request) => string | undefined;
    onVerified?: (identifier: string) => void;
  }): (request: Request) => Promise<Response>;
  runReminderAgent(options: {
    switchboard: object;
    log: (line: string) => void;
    autoConsent?: (link: string) => Promise<void>;
    userVerifyUrl?: string;
    openAiApiKey?: string;
  }): Promise<DemoAgentResult>;
}

export interface DemoAgentResult {
  instance: { url: string };
  model: string;
  answer: string;
  event?: { id: string; summary?: string; start?: { dateTime?: string }; end?: { dateTime?: string } };
}

/** A workspace package: `npm install` links it, `npm run build` builds it. */
const REMINDER_AGENT_PACKAGE = '@switchboard/example-reminder-agent';
const SANDBOX_USER = 'john.doe@example.com';
/** Where `npm start` serves when it can, like `npx switchboard start`. */
const USUAL_PORT = 3000;

async function loadReminderAgent(): Promise<ReminderAgentModule> {
  let loaded: Partial<ReminderAgentModule>;
  try {
    loaded = (await import(REMINDER_AGENT_PACKAGE)) as Partial<ReminderAgentModule>;
  } catch (error) {
    throw new CommandError(
      `the demo could not load the reminder agent (${REMINDER_AGENT_PACKAGE}): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      'run `npm install && npm run build` at the root of the Switchboard repository',
    );
  }
  if (
    typeof loaded.runReminderAgent !== 'function' ||
    typeof loaded.Switchboard !== 'function' ||
    typeof loaded.sandboxConsent !== 'function' ||
    typeof loaded.userVerifyHandler !== 'function' ||
    typeof loaded.USER !== 'string'
  ) {
    throw new CommandError(
      `${REMINDER_AGENT_PACKAGE} does not export runReminderAgent, Switchboard, sandboxConsent, userVerifyHandler and USER`,
      'rebuild it with `npm run build`',
    );
  }
  return loaded as ReminderAgentModule;
}

/** Written into the demo's data dir, so a later run knows the directory is its own to wipe. */
const DEMO_MARKER = '.switchboard-demo';

/**
 * Each run starts from an empty data dir: the embedded sandbox keeps its users' grants in
 * memory, so tokens stored by an earlier run would point at grants that no longer exist.
 * Only a directory the demo made itself (or an empty one) is ever wiped.
 */
function prepareDataDir(dir: string): void {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
      throw new CommandError(
        `${dir} is not empty and was not made by the demo`,
        'pass --data-dir with a new or empty directory',
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, DEMO_MARKER), 'Made by `npx switchboard demo`; the next run deletes this directory.\n');
}

/** A free port (or checks that `wanted` is free), with a hint when it is taken. */
function freePort(wanted = 0): Promise<number> {
  return probeFreePort(wanted).catch(() => {
    throw new CommandError(
      `port ${wanted} is already in use`,
      'pass another --port, or leave it out to use a free one',
    );
  });
}

/** The demo's stand-in for an app's backend: one route, on loopback, until the demo stops. */
function serveVerifyRoute(
  handler: (request: Request) => Promise<Response>,
): Promise<{ url: string; close: () => Promise<void> }> {
  return new Promise((resolveServed) => {
    const server = serve({ fetch: handler, port: 0, hostname: '127.0.0.1' }, () => {
      const { port, close } = portListener(server as Server, 0, 'all');
      resolveServed({ url: `http://127.0.0.1:${port}/switchboard/verify`, close });
    });
  });
}

function minutes(from: string | undefined, to: string | undefined): string {
  if (!from || !to) return '';
  return ` (${Math.round((Date.parse(to) - Date.parse(from)) / 60_000)} min)`;
}

/**
 * `npx switchboard demo`: starts an embedded Switchboard (SQLite + sandbox), runs the reminder
 * agent against it, shows the event read back from the calendar, and stops the server.
 */
export async function demoCommand(
  env: Record<string, string | undefined>,
  args: string[],
  out: (text: string) => void = (text) => process.stdout.write(text),
): Promise<DemoAgentResult | undefined> {
  const { values } = parseOptions(
    () =>
      parseArgs({
        args,
        options: {
          'auto-consent': { type: 'boolean', default: false },
          serve: { type: 'boolean', default: false },
          port: { type: 'string' },
          'data-dir': { type: 'string', default: DEMO_DATA_DIR },
          verbose: { type: 'boolean', default: false },
          help: { type: 'boolean', default: false },
        },
        strict: true,
      }),
    `${CLI} demo --help`,
    DEMO_USAGE,
  );
  if (values.help) {
    out(`${DEMO_HELP}\n`);
    return undefined;
  }
  const print = (line: string) => out(`${line}\n`);
  const wantedPort = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(wantedPort) || wantedPort < 0 || wantedPort > 65535) {
    throw new CommandError(`--port must be a port number, got "${values.port}"`, 'for example --port 3000');
  }
  // Serving for a person: the usual port when it is free, so the printed URLs stay the same.
  let port: number;
  if (values.port === undefined && values.serve) {
    port = await freePort(USUAL_PORT).catch(async () => {
      const other = await freePort(0);
      print(
        `Port ${USUAL_PORT} is in use (another Switchboard?), so the demo serves on port ${other} instead; pass --port N to choose.`,
      );
      return other;
    });
  } else {
    port = await freePort(wantedPort);
  }
  const dataDir = resolve(values['data-dir']);
  const url = `http://127.0.0.1:${port}`;
  const agent = await loadReminderAgent();
  prepareDataDir(dataDir);

  print(`Starting Switchboard for the demo (SQLite in ${dataDir}, sandbox Google on its own port) …`);
  let server: RunningServer;
  let created: { client_id: string; client_secret: string } | undefined;
  try {
    // Embedded defaults on purpose: the demo never touches a DATABASE_URL or a real provider.
    server = await startServer(
      {
        PORT: String(port),
        HOST: '127.0.0.1',
        SWITCHBOARD_PUBLIC_URL: url,
        SWITCHBOARD_DATA_DIR: dataDir,
        SWITCHBOARD_LOG_LEVEL: values.verbose ? 'info' : 'error',
      },
      {
        onAdminCreated: (client) => {
          created = client;
        },
      },
    );
  } catch (error) {
    throw new CommandError(
      `could not start the demo server: ${error instanceof Error ? error.message : String(error)}`,
      `delete ${dataDir} to start the demo from scratch`,
    );
  }

  let closeVerifyRoute = async () => {};
  const stop = () => void Promise.all([server.stop(), closeVerifyRoute()]).finally(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    const credentials = created ?? readAdminCredentials(dataDir);
    print(`✓ Switchboard is running at ${url}`);
    if (server.sandboxUrl) print(`✓ Sandbox Google is running at ${server.sandboxUrl}`);
    const switchboard = new agent.Switchboard({
      url,
      clientId: credentials.client_id,
      clientSecret: credentials.client_secret,
    });
    // The app's part of user verification: the demo's app has john-doe signed in, always.
    const verifyRoute = await serveVerifyRoute(
      agent.userVerifyHandler({
        switchboard,
        signedInUser: () => agent.USER,
        onVerified: (identifier) =>
          print(
            `  ✓ the demo verified ${identifier} itself, as your app would (its verify route called POST /api/v1/connected_accounts/user/verify)`,
          ),
      }),
    );
    closeVerifyRoute = verifyRoute.close;
    print(`✓ The demo plays your app for user verification: its verify route is ${verifyRoute.url}`);
    // Nobody can click a link when `npm start` runs without a terminal (a script, a container).
    const autoConsent = values['auto-consent'] || (values.serve && !process.stdin.isTTY);
    if (autoConsent && !values['auto-consent']) {
      print(`No terminal attached: the sandbox will consent as ${SANDBOX_USER} by itself.`);
    }
    const result = await agent.runReminderAgent({
      switchboard,
      log: (line) => print(line),
      autoConsent: autoConsent ? agent.sandboxConsent(SANDBOX_USER) : undefined,
      userVerifyUrl: verifyRoute.url,
      openAiApiKey: env.OPENAI_API_KEY || undefined,
    });

    const event = result.event;
    print('');
    if (event) {
      print(`✓ The reminder is in ${SANDBOX_USER}'s calendar (read back with googlecalendar_get_event_by_id):`);
      print(
        `    "${event.summary ?? '(no title)'}" ${event.start?.dateTime ?? '?'} → ${event.end?.dateTime ?? '?'}${minutes(event.start?.dateTime, event.end?.dateTime)}`,
      );
    } else {
      print('! The agent finished without creating an event; its answer is above.');
    }
    print('');
    print('Next:');
    print(
      `  • Your own server: \`${CLI} start\` (its data in ${DEFAULT_DATA_DIR}), then \`npm start -w examples/reminder-agent\``,
    );
    print('    with the credentials it prints, or point any MCP client (MCP Inspector, Claude Desktop) at an');
    print("    instance URL (transport Streamable HTTP; MCP Inspector's CLI needs /mcp added at its end).");
    print('  • Real Google: create connections with your OAuth app (oauth_client_id, oauth_client_secret)');
    print(`    and register the redirect URI ${url}/oauth/callback (your public URL in production).`);
    print(
      `  • Production: set DATABASE_URL=postgres://… and SWITCHBOARD_ENCRYPTION_KEY, then \`${CLI} start\` and, once, \`${CLI} clients create --name admin\`.`,
    );
    if (!env.OPENAI_API_KEY) print('  • Set OPENAI_API_KEY to let a real model drive the agent.');
    if (values.serve) {
      print('');
      print(`Switchboard keeps running at ${url} (dashboard: ${url}/dashboard). Press Ctrl+C to stop.`);
      print(`  admin client_id:     ${credentials.client_id}`);
      print(
        `  admin client_secret: ${credentials.client_secret}  (also in ${join(dataDir, 'admin-credentials.json')})`,
      );
      print(`  more API clients for this server: ${cliCommand('clients create --name NAME', dataDir)}`);
      process.removeListener('SIGINT', stop);
      await new Promise<void>((resolveStop) => {
        process.once('SIGTERM', () => resolveStop());
        process.once('SIGINT', () => resolveStop());
      });
    }
    return result;
  } finally {
    process.removeListener('SIGINT', stop);
    await closeVerifyRoute();
    await server.stop();
  }
}
