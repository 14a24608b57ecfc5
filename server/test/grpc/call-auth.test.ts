import { createContextValues, type HandlerContext } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/auth/api-clients.js';
import { systemClock } from '../../src/clock.js';
import { AppError } from '../../src/errors.js';
import {
  authenticate,
  authenticateCall,
  authorizationValues,
  callerKey,
  callerOf,
  MAX_AUTHORIZATION_VALUES,
  readAuthorizationValues,
} from '../../src/grpc/auth.js';
import { ConnectedAccountService } from '../../src/grpc/gen/scalekit/v1/connected_accounts/connected_accounts_pb.js';
import { ConnectionService } from '../../src/grpc/gen/scalekit/v1/connections/connections_pb.js';
import { McpService } from '../../src/grpc/gen/scalekit/v1/mcp/mcp_pb.js';
import { ToolService } from '../../src/grpc/gen/scalekit/v1/tools/tools_pb.js';
import { manualClock, type Stack, startStack } from '../support/index.js';

/**
 * The bearer token(s) of a gRPC call and the management scope per method, called directly
 * (issue 18's mutation testing of grpc/auth.ts); authorization-values.test.ts sends the
 * repeated field over HTTP/2 on both paths.
 */

/**
 * A real stack (signing keys, API clients, database) and tokens of its clients: the admin, a
 * read client and a revoked one; `stale` is no token at all.
 */
let stack: Stack;
const tokens: Record<'admin' | 'read' | 'revoked', string> = { admin: '', read: '', revoked: '' };
let admin: { clientId: string; scope: 'admin' };
let reader: { clientId: string; scope: 'read' };

beforeAll(async () => {
  stack = await startStack();
  const read = await createApiClient(stack.db.db, systemClock, 'reader', { scope: 'read' });
  const revoked = await createApiClient(stack.db.db, systemClock, 'revoked', { scope: 'admin' });
  tokens.admin = await stack.token();
  tokens.read = await stack.tokenOf(read);
  tokens.revoked = await stack.tokenOf(revoked);
  await stack.services.apiClients.revoke(revoked.id);
  admin = { clientId: stack.admin.client_id, scope: 'admin' };
  reader = { clientId: read.client_id, scope: 'read' };
});
afterAll(() => stack?.close());

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const MALFORMED = 'send Authorization: Bearer <access token> (get one from POST /oauth/token)';
const INVALID = 'the access token is invalid or expired';
const REVOKED = 'the access token was revoked (its client was revoked or rotated its secret)';
const READ_ONLY = 'this API client may only read (scope "read"); use an admin client to make changes';

describe('readAuthorizationValues', () => {
  it('answers every authorization value of a raw header list, in order, whatever the name’s case', () => {
    expect(
      readAuthorizationValues([
        'Authorization',
        'Bearer a',
        'x-note',
        'authorization',
        'authorization',
        'Bearer b',
        'AUTHORIZATION',
        '',
      ]),
    ).toEqual(['Bearer a', 'Bearer b', '']);
    expect(readAuthorizationValues(['content-type', 'application/grpc'])).toEqual([]);
    // A name without its value (no pair) is none.
    expect(readAuthorizationValues(['authorization'])).toEqual([]);
    expect(readAuthorizationValues([])).toEqual([]);
  });
});

describe('authenticateCall', () => {
  const services = () => stack.services;

  it('takes one valid value, or two where either is valid, whatever the scheme’s case and spacing', async () => {
    expect(await authenticateCall(services(), [`Bearer ${tokens.admin}`], 'ExecuteTool')).toEqual(admin);
    expect(await authenticateCall(services(), ['Bearer stale', `Bearer ${tokens.admin}`], 'ExecuteTool')).toEqual(
      admin,
    );
    expect(await authenticateCall(services(), [`Bearer ${tokens.admin}`, 'Bearer stale'], 'ExecuteTool')).toEqual(
      admin,
    );
    expect(await authenticateCall(services(), [`bearer   ${tokens.admin}`], 'ExecuteTool')).toEqual(admin);
    expect(
      await authenticateCall(services(), [`Bearer ${tokens.admin}`, `Bearer ${tokens.admin}`], 'ExecuteTool'),
    ).toEqual(admin);
    expect(
      await authenticateCall(services(), [`Bearer ${tokens.revoked}`, `Bearer ${tokens.read}`], 'ListTools'),
    ).toEqual(reader);
    expect((await failure(authenticateCall(services(), ['Bearer stale', 'Bearer stale'], 'ListTools'))).message).toBe(
      INVALID,
    );
  });

  it('refuses when every value fails, with the last failure', async () => {
    const refusal = async (values: string[]) => {
      const error = await failure(authenticateCall(services(), values, 'ListTools'));
      expect(error.code).toBe('unauthenticated');
      return error.message;
    };
    expect(await refusal([])).toBe(MALFORMED);
    expect(await refusal([''])).toBe(MALFORMED);
    expect(await refusal([tokens.admin])).toBe(MALFORMED);
    expect(await refusal([`Basic ${tokens.admin}`])).toBe(MALFORMED);
    expect(await refusal([`Bearer ${tokens.admin} extra`])).toBe(MALFORMED);
    expect(await refusal(['Bearer stale'])).toBe(INVALID);
    expect(await refusal([`Bearer ${tokens.revoked}`])).toBe(REVOKED);
    expect(await refusal([`Bearer ${tokens.revoked}`, 'Bearer stale'])).toBe(INVALID);
    expect(await refusal(['Bearer stale', `Bearer ${tokens.revoked}`])).toBe(REVOKED);
    expect(await refusal(['Bearer stale', 'garbage'])).toBe(MALFORMED);
  });

  it(`refuses more than ${MAX_AUTHORIZATION_VALUES} values, even valid ones`, async () => {
    const valid = `Bearer ${tokens.admin}`;
    const error = await failure(authenticateCall(services(), [valid, valid, valid], 'ListTools'));
    expect(error).toMatchObject({
      code: 'unauthenticated',
      message: 'send one authorization value, Bearer <access token> (this call had 3; at most 2 are taken)',
    });
  });

  it('lets a failure other than a refused token through as it is, whichever value comes next', async () => {
    // A database that is gone: the first value's client standing cannot be read, which is no
    // refusal, so the call fails even though the second value's (cached) standing is fine.
    // The clock stands still, so the change feed does not poll the closed database either.
    const clock = manualClock(Date.now());
    const broken = await startStack({ clock });
    try {
      const cached = await broken.token();
      expect(await authenticateCall(broken.services, [`Bearer ${cached}`], 'ListTools')).toMatchObject({
        scope: 'admin',
      });
      const other = await createApiClient(broken.db.db, clock, 'other', { scope: 'admin' });
      const unread = await broken.tokenOf(other);
      await broken.db.close();
      expect(await authenticateCall(broken.services, [`Bearer ${cached}`], 'ListTools')).toMatchObject({
        scope: 'admin',
      });
      const error = await authenticateCall(broken.services, [`Bearer ${unread}`, `Bearer ${cached}`], 'ListTools').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as AppError).code).not.toBe('unauthenticated');
    } finally {
      await broken.close().catch(() => undefined);
    }
  });

  it('lets a read client call only the methods whose HTTP twin is a GET; an admin client every one', async () => {
    const reads = [
      'ListTools',
      'ListScopedTools',
      'ListAvailableTools',
      'GetConnectedAccountAuth',
      'GetConnectedAccountDetails',
      'ListConnectedAccounts',
      'ListAppConnections',
      'ListMcpConfigs',
      'GetMcpConfig',
      'ListMcpInstances',
      'GetMcpInstance',
    ];
    const methods = [ToolService, ConnectedAccountService, ConnectionService, McpService].flatMap((service) =>
      service.methods.map((method) => method.name),
    );
    expect(methods).toEqual(expect.arrayContaining(reads));
    expect(methods.length).toBeGreaterThan(reads.length);
    for (const method of methods) {
      expect(await authenticateCall(services(), [`Bearer ${tokens.admin}`], method)).toEqual(admin);
      const asReader = authenticateCall(services(), ['Bearer stale', `Bearer ${tokens.read}`], method);
      if (reads.includes(method)) {
        expect(await asReader, method).toEqual(reader);
      } else {
        expect(await failure(asReader), method).toMatchObject({ code: 'forbidden', message: READ_ONLY });
      }
    }
    // Names are matched exactly.
    expect((await failure(authenticateCall(services(), [`Bearer ${tokens.read}`], 'listtools'))).code).toBe(
      'forbidden',
    );
  });
});

/** A connect-node request as far as the interceptor reads it. */
function request(values: string[], header?: string, method = 'ListTools') {
  const contextValues = createContextValues().set(authorizationValues, values);
  const headers = new Headers(header === undefined ? {} : { authorization: header });
  return { contextValues, header: headers, method: { name: method } };
}

describe('the authenticate interceptor and callerOf', () => {
  it('authenticates the raw values, else the one header, and hands the caller on', async () => {
    const seen: unknown[] = [];
    const next = async (req: ReturnType<typeof request>) => {
      seen.push(req.contextValues.get(callerKey));
      return 'answer';
    };
    const intercept = authenticate(stack.services)(next as never) as unknown as (
      req: ReturnType<typeof request>,
    ) => Promise<unknown>;
    // The raw values decide when there are any (the read token here, not the header's admin one).
    expect(await intercept(request(['Bearer stale', `Bearer ${tokens.read}`], `Bearer ${tokens.admin}`))).toBe(
      'answer',
    );
    expect(await intercept(request([], `Bearer ${tokens.admin}`, 'ExecuteTool'))).toBe('answer');
    expect(seen).toEqual([reader, admin]);
    expect((await failure(intercept(request([])))).message).toBe(MALFORMED);
    expect((await failure(intercept(request([`Bearer ${tokens.read}`], undefined, 'ExecuteTool')))).code).toBe(
      'forbidden',
    );
    expect(seen).toHaveLength(2);
    // A request that came without the raw values (none were read) is checked by its one header.
    const bare = { ...request([], `Bearer ${tokens.read}`), contextValues: createContextValues() };
    expect(await intercept(bare)).toBe('answer');
    expect(seen[2]).toEqual(reader);
  });

  it('answers the caller of an authenticated call, and refuses a call that was not', () => {
    const caller = { clientId: 'cli_admin', scope: 'admin' as const };
    const context = (values = createContextValues()) => ({ values }) as unknown as HandlerContext;
    expect(callerOf(context(createContextValues().set(callerKey, caller)))).toBe(caller);
    expect(() => callerOf(context())).toThrow(
      expect.objectContaining({ code: 'unauthenticated', message: 'the call was not authenticated' }),
    );
  });
});
