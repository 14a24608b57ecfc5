import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const ROOT = join(import.meta.dirname, '../../..');
const OUT = join(ROOT, 'test-artifacts/api-reference/sdk-types');
const SDK_TYPES = join(ROOT, 'sdk/src/index.ts');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** The component that answers are made of (components['schemas'][name]). */
const schema = (name: string) => `components['schemas']['${name}']`;
/** The JSON body an operation takes. */
const body = (path: string, method: string) =>
  `NonNullable<paths['${path}']['${method}']['requestBody']>['content']['application/json']`;
/** The JSON answer of an operation at `status`. */
const answer = (path: string, method: string, status = 200) =>
  `paths['${path}']['${method}']['responses'][${status}]['content']['application/json']`;

/**
 * Each SDK answer type and the type openapi-typescript generates for it from /openapi.json:
 * they must be the same type (a field added, dropped, renamed, retyped or made optional on
 * either side fails).
 */
const ANSWERS: [sdk: string, spec: string][] = [
  ['Sdk.Connection', schema('Connection')],
  ['Sdk.ConnectionList', schema('ConnectionList')],
  ['{ connection: Sdk.Connection }', answer('/api/v1/connections/{id}', 'get')],
  ['Sdk.ConnectedAccountSummary', schema('ConnectedAccountSummary')],
  ['Sdk.ConnectedAccount', schema('ConnectedAccount')],
  ['Sdk.ConnectedAccountList', schema('ConnectedAccountList')],
  ['Sdk.AuthorizationLink', schema('AuthorizationLink')],
  ['Sdk.VerifyUserResult', schema('VerifyUserResult')],
  ['Sdk.AccountEvent', schema('AccountEvent')],
  ['Sdk.AccountEventList', schema('AccountEventList')],
  ['Sdk.Tool', schema('Tool')],
  ['Sdk.ToolList', schema('ToolList')],
  ['Sdk.ScopedToolList', schema('ScopedToolList')],
  ['Sdk.ExecuteToolResult<unknown>', schema('ExecuteToolResult')],
  ['Sdk.ToolCallLog', schema('ToolCallLog')],
  ['Sdk.ToolCallLogList', schema('ToolCallLogList')],
  ['Sdk.McpConfig', schema('McpConfig')],
  ['Sdk.McpConfigList', schema('McpConfigList')],
  ['Sdk.McpInstance', schema('McpInstance')],
  ['Sdk.McpInstanceList', schema('McpInstanceList')],
  ['Sdk.McpConnectionAuthState', schema('McpConnectionAuthState')],
  ['Sdk.McpAuthState', schema('McpAuthState')],
  ['Sdk.McpSessionToken', schema('McpSessionToken')],
  [
    '{ connected_accounts: Sdk.McpConnectionAuthState[] }',
    answer('/api/v1/mcp/configs/{id}/connected_accounts', 'post'),
  ],
  ['Sdk.ApiClient', schema('ApiClient')],
  ['Sdk.IssuedApiClient', schema('IssuedApiClient')],
  ['Sdk.ApiClientList', schema('ApiClientList')],
];

/**
 * Each body the SDK sends and the operation's body in the spec: every field the SDK can send is
 * one the server takes, and every value the SDK type allows passes the server's schema.
 */
const BODIES: [sdk: string, spec: string][] = [
  ['Sdk.CreateConnectionInput', body('/api/v1/connections', 'post')],
  ['Sdk.UpdateConnectionInput', body('/api/v1/connections/{id}', 'patch')],
  ['Sdk.CreateConnectedAccountInput', body('/api/v1/connected_accounts', 'post')],
  ['Sdk.UpdateConnectedAccountInput', body('/api/v1/connected_accounts', 'put')],
  ['Sdk.AccountRef', body('/api/v1/connected_accounts:delete', 'post')],
  ['Sdk.AccountRef', body('/api/v1/connected_accounts:disconnect', 'post')],
  ['Sdk.AccountRef & Sdk.AuthorizationLinkOptions', body('/api/v1/connected_accounts/magic_link', 'post')],
  ['Sdk.VerifyUserInput', body('/api/v1/connected_accounts/user/verify', 'post')],
  ['Sdk.ExecuteToolInput', body('/api/v1/execute_tool', 'post')],
  ['Sdk.CreateMcpConfigInput', body('/api/v1/mcp/configs', 'post')],
  ['Sdk.UpdateMcpConfigInput', body('/api/v1/mcp/configs/{id}', 'put')],
  ['Sdk.EnsureMcpInstanceInput', body('/api/v1/mcp/instances', 'post')],
  ['Sdk.UpdateMcpInstanceInput', body('/api/v1/mcp/instances/{id}', 'patch')],
  ["Parameters<Sdk.Mcp['createSessionToken']>[1]", body('/api/v1/mcp/configs/{id}/tokens', 'post')],
  ["Parameters<Sdk.Mcp['revokeSessionTokens']>[1]", body('/api/v1/mcp/configs/{id}/tokens:revoke', 'post')],
  ["Parameters<Sdk.Mcp['listConnectedAccounts']>[1]", body('/api/v1/mcp/configs/{id}/connected_accounts', 'post')],
  ['Sdk.CreateApiClientInput', body('/api/v1/clients', 'post')],
];

function assertions(typesFile: string): string {
  const lines = [
    `import type * as Sdk from '${relative(OUT, SDK_TYPES).replace(/\.ts$/, '.js')}';`,
    `import type { components, paths } from './${typesFile.replace(/\.d\.ts$/, '.js')}';`,
    // The same type, not merely assignable both ways (which an optional extra field slips through).
    'type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
    'type Expand<T> = T extends readonly (infer U)[] ? Expand<U>[] : T extends object ? { [K in keyof T]: Expand<T[K]> } : T;',
    'type Keys<T> = T extends unknown ? keyof T : never;',
    'function same<A, B>(ok: Same<Expand<A>, Expand<B>>): void { void ok; }',
    /** Fields the SDK can send that the server does not take, per member of a union. */
    'type Unknown<A, B> = Exclude<Keys<A>, Keys<B>>;',
    'function sends<A extends B, B>(unknownFields: [Unknown<A, B>] extends [never] ? true : Unknown<A, B>): void { void unknownFields; }',
  ];
  for (const [sdk, spec] of ANSWERS) lines.push(`same<${sdk}, ${spec}>(true);`);
  for (const [sdk, spec] of BODIES) lines.push(`sends<${sdk}, ${spec}>(true);`);
  return `${lines.join('\n')}\n`;
}

async function typecheck(files: string[]): Promise<string> {
  try {
    await promisify(execFile)(
      process.execPath,
      [
        TSC,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--target',
        'ES2023',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--lib',
        'ES2023,DOM',
        ...files,
      ],
      { cwd: OUT },
    );
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}

/**
 * The SDK's wire types against the reference: TypeScript types are generated from /openapi.json
 * at test time (openapi-typescript), and a file of type-level assertions — one per SDK type —
 * is compiled with tsc. Any drift between the SDK and the spec (and so the zod schemas the
 * spec is generated from) fails the compile.
 */
describe('the SDK’s types against /openapi.json', () => {
  let stack: Stack;
  let generated: string;

  beforeAll(async () => {
    stack = await startStack();
    const spec = (await (await stack.fetch(`${stack.url}/openapi.json`)).json()) as Record<string, unknown>;
    generated = astToString(await openapiTS(spec as never, { silent: true }));
    mkdirSync(OUT, { recursive: true });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('are the types generated from the spec: every answer the same type, every body one the server takes', async () => {
    writeFileSync(join(OUT, 'openapi.d.ts'), generated);
    const source = assertions('openapi.d.ts');
    writeFileSync(join(OUT, 'assertions.ts'), source);
    const errors = await typecheck(['assertions.ts']);
    const lines = source.split('\n');
    const failing = [...errors.matchAll(/^assertions\.ts\((\d+),/gm)].map((m) => lines[Number(m[1]) - 1]);
    expect(failing, errors).toEqual([]);
    expect(errors).toBe('');
  }, 60_000);

  it('catches drift: a spec whose Connection lost a field, and an SDK body with a field the server does not take', async () => {
    // The same compile over a spec with one field renamed must fail on exactly the types that hold it.
    const drifted = generated.replace(/\boauth_client_secret_set: boolean;/, 'oauth_client_secret_present: boolean;');
    expect(drifted).not.toBe(generated);
    writeFileSync(join(OUT, 'drifted.d.ts'), drifted);
    // And an SDK body that sends a field the server's schema does not have.
    const extra = `sends<Sdk.CreateConnectionInput & { colour?: string }, ${body('/api/v1/connections', 'post')}>(true);`;
    const source = `${assertions('drifted.d.ts')}${extra}\n`;
    writeFileSync(join(OUT, 'drifted-assertions.ts'), source);
    const errors = await typecheck(['drifted-assertions.ts']);
    const failing = [...errors.matchAll(/drifted-assertions\.ts\((\d+),/g)].map((m) => Number(m[1]));
    const lines = source.split('\n');
    expect(failing.map((n) => lines[n - 1]?.match(/^(?:same|sends)<([^,]+),/)?.[1])).toEqual([
      'Sdk.Connection',
      'Sdk.ConnectionList',
      '{ connection: Sdk.Connection }',
      'Sdk.CreateConnectionInput & { colour?: string }',
    ]);
  }, 60_000);
});
