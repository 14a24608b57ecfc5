import { createContextKey, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { type ManagementCaller, verifyManagementToken } from '../auth/management-tokens.js';
import type { Services } from '../context.js';
import { AppError, isAppError } from '../errors.js';

/** Every `authorization` value of the request, in order (Node keeps only the first in `headers`). */
export const authorizationValues = createContextKey<string[]>([]);

/** The management client the call was authenticated as; set by `authenticate` before any handler runs. */
export const callerKey = createContextKey<ManagementCaller | undefined>(undefined);

/** From a Node request's raw header list: the Python SDK sends two, which differ after it refreshed its token. */
export function readAuthorizationValues(rawHeaders: string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'authorization') values.push(rawHeaders[i + 1] ?? '');
  }
  return values;
}

/**
 * The methods a `read` client may call: those whose HTTP twin is a GET. Every other method
 * changes state (GetMagicLink issues a link, GetMcpInstanceAuthState creates accounts).
 */
const READ_METHODS = new Set([
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
]);

/**
 * The most `authorization` values a call may carry: the Python SDK sends two (its channel's
 * token and the current one), the Node SDK one. Each value costs a signature check, and HPACK
 * makes a repeated field cost its sender about a byte, so without a bound one small request
 * could buy ~90 checks.
 */
export const MAX_AUTHORIZATION_VALUES = 2;

/**
 * The management token check of REST, for gRPC: no token or a bad one is UNAUTHENTICATED,
 * which is what makes the Node SDK fetch its first token. A call passes when any of its
 * authorization values is valid (at most MAX_AUTHORIZATION_VALUES of them, a value repeated
 * checked once); a `read` client only reaches the read methods. Shared by the connect-node
 * interceptor and the direct unary path (unary.ts).
 */
export async function authenticateCall(
  services: Services,
  values: readonly string[],
  methodName: string,
): Promise<ManagementCaller> {
  if (values.length > MAX_AUTHORIZATION_VALUES) {
    throw new AppError(
      'unauthenticated',
      `send one authorization value, Bearer <access token> (this call had ${values.length}; at most ${MAX_AUTHORIZATION_VALUES} are taken)`,
    );
  }
  let caller: ManagementCaller | undefined;
  // Built only when every value failed: an AppError captures a stack (6 µs; 0.7 % of the
  // server's busy CPU in the gRPC bench when it was made up front for every valid call).
  let failure: unknown;
  // The Python SDK's two values are the same token until it refreshes: one check, not two.
  const distinct = values.length > 1 ? [...new Set(values)] : values;
  for (const value of distinct.length ? distinct : ['']) {
    try {
      caller = await verifyManagementToken(services, value);
      break;
    } catch (error) {
      if (!isAppError(error) || error.code !== 'unauthenticated') throw error;
      failure = error;
    }
  }
  if (!caller) {
    throw (
      failure ??
      new AppError('unauthenticated', 'send authorization: Bearer <access token> (get one from POST /oauth/token)')
    );
  }
  if (caller.scope !== 'admin' && !READ_METHODS.has(methodName)) {
    throw new AppError(
      'forbidden',
      'this API client may only read (scope "read"); use an admin client to make changes',
    );
  }
  return caller;
}

/** `authenticateCall` as a connect-node interceptor: the caller lands in the call's context values. */
export function authenticate(services: Services): Interceptor {
  return (next) => async (req) => {
    const values = req.contextValues.get(authorizationValues);
    const caller = await authenticateCall(
      services,
      values.length ? values : [req.header.get('authorization') ?? ''],
      req.method.name,
    );
    req.contextValues.set(callerKey, caller);
    return next(req);
  };
}

/** The authenticated client of a call (the interceptor has run by the time a handler does). */
export function callerOf(context: HandlerContext): ManagementCaller {
  const caller = context.values.get(callerKey);
  if (!caller) throw new AppError('unauthenticated', 'the call was not authenticated');
  return caller;
}
