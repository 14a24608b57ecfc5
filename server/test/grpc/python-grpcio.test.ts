import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { create, type DescFile, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFirstAdmin, type IssuedClient } from '../../src/auth/api-clients.js';
import { systemClock } from '../../src/clock.js';
import { file_scalekit_v1_connected_accounts_connected_accounts } from '../../src/grpc/gen/scalekit/v1/connected_accounts/connected_accounts_pb.js';
import { file_scalekit_v1_connections_connections } from '../../src/grpc/gen/scalekit/v1/connections/connections_pb.js';
import { file_scalekit_v1_errdetails_errdetails } from '../../src/grpc/gen/scalekit/v1/errdetails/errdetails_pb.js';
import { file_scalekit_v1_mcp_mcp } from '../../src/grpc/gen/scalekit/v1/mcp/mcp_pb.js';
import { file_scalekit_v1_tools_tools } from '../../src/grpc/gen/scalekit/v1/tools/tools_pb.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { createTestDatabase, TEST_ENGINE, TEST_POSTGRES_URL, type TestDatabase } from '../support/database.js';
import { followSandboxConsent, freePort, TEST_ENCRYPTION_KEY } from '../support/index.js';

/** Debian's python3, where python3-grpcio and python3-protobuf install (a pyenv python3 on PATH has neither). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python_sdk_wire.py', import.meta.url));
const pythonGrpcAvailable = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf']).status === 0;

/**
 * The server's scalekit.v1 files as a FileDescriptorSet, each after the files it imports; the
 * well-known types are left out (the script has them from protobuf's own *_pb2 modules).
 */
function descriptorSet(files: DescFile[]): Uint8Array {
  const ordered: DescFile[] = [];
  const visit = (file: DescFile) => {
    if (ordered.includes(file) || file.name.startsWith('google/protobuf/')) return;
    for (const dependency of file.dependencies) visit(dependency);
    ordered.push(file);
  };
  for (const file of files) visit(file);
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: ordered.map((f) => f.proto) }));
}

type Step = { step: string } & Record<string, unknown>;
type DecodedError = { code: string; message: string; error_code: string; error_info: Record<string, unknown> };

/**
 * Runs the script to its end: each line it prints is a step; at `magic_link` the test's
 * `onLink` follows the consent, and the script goes on when told. Never longer than 60 s.
 */
async function runScript(env: Record<string, string>, onLink: (link: string) => Promise<void>) {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [SCRIPT], { env });
  const timer = setTimeout(() => child.kill(), 60_000);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const steps = new Map<string, Step>();
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const step = JSON.parse(line) as Step;
      steps.set(step.step, step);
      if (step.step === 'magic_link') {
        await onLink(String(step.link));
        child.stdin.write('consented\n');
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return { code: await exited, stderr, steps };
}

/**
 * grpcio, the C-core gRPC of Scalekit's Python SDK, against `switchboard start` over TLS: the
 * SDK's token fetch, channel, per-call metadata (a second authorization value) and error
 * decoding (grpc_status.rpc_status.from_call, then the ErrorInfo), as python_sdk_wire.py makes them.
 */
describe.skipIf(!pythonGrpcAvailable)(
  `grpcio as the Scalekit Python SDK uses it, against switchboard start over TLS (${TEST_ENGINE})${
    pythonGrpcAvailable ? '' : ` (skipped: ${PYTHON} lacks grpc; apt-get install python3-grpcio python3-protobuf)`
  }`,
  () => {
    let running: RunningServer;
    let db: TestDatabase | undefined;
    let dataDir: string;
    let admin: IssuedClient;
    let url: string;
    let token: string;
    const previousRejectUnauthorized = process.env.NODE_TLS_REJECT_UNAUTHORIZED;

    /** The sandbox consent, followed as a browser would, on the server's mounted sandbox. */
    const consent = async (link: string) => {
      const done = await followSandboxConsent(link);
      expect(done.status, await done.text()).toBe(200);
    };

    const rest = async (path: string, body: unknown) => {
      const answer = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(answer.status, await answer.clone().text()).toBe(201);
    };

    /** The embedded default on SQLite; on Postgres production mode, whose first admin a test makes itself. */
    async function engineEnv(): Promise<Record<string, string>> {
      if (TEST_ENGINE === 'sqlite') {
        dataDir = mkdtempSync(join(tmpdir(), 'switchboard-grpcio-'));
        return { SWITCHBOARD_DATA_DIR: dataDir };
      }
      db = await createTestDatabase('postgres');
      dataDir = db.dataDir;
      const issued = await createFirstAdmin(db.db, 'postgres', systemClock);
      if (!issued) throw new Error('the new schema already had an API client');
      admin = issued;
      return {
        SWITCHBOARD_DATA_DIR: dataDir,
        DATABASE_URL: `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${db.reopen.postgresSchema}`)}`,
        SWITCHBOARD_SANDBOX: 'true',
      };
    }

    beforeAll(async () => {
      running = await startServer({
        // A real port, not 0: links carry the public URL, which is made from PORT.
        PORT: String(await freePort()),
        SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        SWITCHBOARD_LOG_LEVEL: 'silent',
        SWITCHBOARD_TLS_SELF_SIGNED: 'true',
        ...(await engineEnv()),
      });
      admin ??= running.adminClient as IssuedClient;
      url = running.url.replace('127.0.0.1', 'localhost');
      // This test's own REST calls and the consent trust the self-signed certificate this way.
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      const issued = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: admin.client_id,
          client_secret: admin.client_secret,
        }),
      });
      token = ((await issued.json()) as { access_token: string }).access_token;
      await rest('/api/v1/connections', { name: 'MY_GMAIL', provider: 'gmail' });
      await rest('/api/v1/mcp/configs', {
        name: 'reminder-manager',
        connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
      });
    }, 30_000);

    afterAll(async () => {
      await running?.stop();
      if (db) await db.close();
      else if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (previousRejectUnauthorized === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previousRejectUnauthorized;
    });

    it('lists connections, decodes NOT_FOUND and tool errors, connects an account, runs a tool, takes either authorization value, ensures an MCP instance, deletes', async () => {
      const certFile = running.tls?.certFile;
      if (!certFile) throw new Error('the server started without TLS');
      const descriptors = join(dataDir, 'scalekit.fds');
      writeFileSync(
        descriptors,
        descriptorSet([
          file_scalekit_v1_errdetails_errdetails,
          file_scalekit_v1_connections_connections,
          file_scalekit_v1_connected_accounts_connected_accounts,
          file_scalekit_v1_tools_tools,
          file_scalekit_v1_mcp_mcp,
        ]),
      );
      const { code, stderr, steps } = await runScript(
        {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          SWITCHBOARD_URL: url,
          SWITCHBOARD_CERT: certFile,
          SWITCHBOARD_DESCRIPTORS: descriptors,
          SWITCHBOARD_CLIENT_ID: admin.client_id,
          SWITCHBOARD_CLIENT_SECRET: admin.client_secret,
        },
        consent,
      );
      expect(code, `${stderr}\nsteps: ${[...steps.keys()].join(', ')}`).toBe(0);

      expect(steps.get('list_app_connections')?.connections).toEqual([
        expect.objectContaining({ providerKey: 'GMAIL', keyId: 'MY_GMAIL', type: 'OAUTH', enabled: true }),
      ]);

      const unknown = steps.get('get_unknown_account')?.error as DecodedError;
      expect(unknown).toMatchObject({ code: 'NOT_FOUND', error_code: 'not_found' });
      // grpc-message is percent-encoded UTF-8; from_call requires it to equal the Status's message.
      expect(unknown.message).toContain('nobody-héré ☃');

      const created = steps.get('create_account')?.connected_account as Record<string, unknown>;
      expect(created).toMatchObject({ identifier: 'john-doe', connector: 'MY_GMAIL', status: 'PENDING_AUTH' });
      expect(created.id).toMatch(/^ca_/);
      expect(steps.get('magic_link')).toMatchObject({ has_expiry: true });
      expect(new URL(String(steps.get('magic_link')?.link)).origin).toBe(new URL(url).origin);

      // The sandbox mailbox's newest message (sandbox/gmail/seed.ts), through Struct params and data.
      const mail = steps.get('execute_tool') as Step & { data: { messages: Record<string, string>[] } };
      expect(mail.data.messages).toHaveLength(1);
      expect(mail.data.messages[0]).toMatchObject({
        subject: 'Lunch tomorrow?',
        from: 'Jane Doe <jane.doe@example.com>',
        body: expect.stringContaining('lunch tomorrow at 12:30'),
      });
      expect(mail.execution_id).toMatch(/^exec_/);

      const invalid = steps.get('execute_tool_invalid')?.error as DecodedError;
      expect(invalid).toMatchObject({ code: 'INVALID_ARGUMENT', error_code: 'tool_input_invalid' });
      expect(invalid.error_info).toMatchObject({
        validationErrorInfo: { fieldViolations: [expect.objectContaining({ field: 'max_results' })] },
      });
      // The SDK's ScalekitToolException: a failure at the provider, with the execution it was.
      expect(steps.get('execute_tool_provider_error')?.error).toMatchObject({
        code: 'NOT_FOUND',
        error_code: 'TOOL_ERROR',
        error_info: {
          toolErrorInfo: { toolErrorCode: 'provider_not_found', executionId: expect.stringMatching(/^exec_/) },
        },
      });

      for (const name of ['wrong_metadata_token', 'wrong_channel_token']) {
        expect(steps.get(name)?.connected_account, name).toMatchObject({
          id: created.id,
          identifier: 'john-doe',
          status: 'ACTIVE',
        });
      }
      expect(steps.get('no_valid_token')?.error).toMatchObject({
        code: 'UNAUTHENTICATED',
        error_code: 'unauthenticated',
      });

      const instance = steps.get('ensure_mcp_instance')?.instance as Record<string, unknown>;
      expect(instance).toMatchObject({
        userIdentifier: 'john-doe',
        config: expect.objectContaining({ name: 'reminder-manager' }),
      });
      expect(String(instance.url)).toContain(new URL(url).host);
      expect(steps.get('mcp_instance_auth_state')?.connections).toEqual([
        expect.objectContaining({
          connectionName: 'MY_GMAIL',
          provider: 'gmail',
          connectedAccountId: created.id,
          connectedAccountStatus: 'ACTIVE',
        }),
      ]);

      expect(steps.get('delete_account')?.gone).toMatchObject({ code: 'NOT_FOUND', error_code: 'not_found' });
    }, 90_000);
  },
);
