import type { ConnectedAccounts } from '../accounts/connected-accounts.js';
import type { ConnectionRow, Connections } from '../connections/connections.js';
import type { AccountRow } from '../connections/token-vault.js';
import { newId, newSortableId } from '../crypto/random.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Catalog } from '../providers/index.js';
import type { ProviderDefinition, ProviderRequest } from '../providers/types.js';
import { type AccountCallDeps, accountClientOptions } from './account-client-options.js';
import { redactErrorMessage, summarizeArguments } from './call-details.js';
import type { ToolCallLog } from './call-log.js';
import { InFlightLimits } from './in-flight.js';
import { forwardToProvider } from './provider-client.js';
import type { ProviderTime } from './provider-observer.js';
import { ToolExecutionError } from './tool-execution-error.js';

const PROXY_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
type ProxyMethod = NonNullable<ProviderRequest['method']>;

/**
 * Request headers passed on to the provider. Everything else stays here: the caller's bearer
 * (ours, not the provider's), hop-by-hop headers, the account headers, accept-encoding (the
 * answer is read as text).
 */
const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'accept-language',
  'content-type',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
];

/** Answer headers passed back. Never hop-by-hop headers, cookies or the provider's auth challenges. */
const FORWARDED_ANSWER_HEADERS = [
  'content-type',
  'content-language',
  'content-disposition',
  'cache-control',
  'expires',
  'etag',
  'last-modified',
  'retry-after',
];

export interface ProxyRequest {
  /** The connection (header `connection_name`) and the user (header `identifier`) whose account is used. */
  connectionName: string;
  identifier: string;
  method: string;
  /** The path at the provider's API origin ('/…'), then its query ('?…') if any, as the caller sent them. */
  pathAndQuery: string;
  headers: { get(name: string): string | null };
  /** The request body as text, already bounded by the edge; ignored for GET and DELETE. */
  body: string | undefined;
  signal?: AbortSignal;
}

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  executionId: string;
}

interface Deps extends AccountCallDeps {
  logger: Logger;
  catalog: Catalog;
  connections: Connections;
  accounts: ConnectedAccounts;
  callLog: ToolCallLog;
  metrics?: Metrics;
}

/**
 * A call to a provider's own API on behalf of a connected account (the SDKs'
 * `actions.request`, served at /proxy{path}): the path goes to the provider's first declared
 * API origin (the sandbox's, for a sandbox connection), through the same provider edge as
 * tools, with the user's token added there; the answer comes back with the provider's status
 * and body, never the token. Each call is one tool_call_logs row, `<provider>_proxy`.
 */
export class ProviderProxy {
  private readonly inFlight: InFlightLimits;

  constructor(private readonly deps: Deps) {
    this.inFlight = new InFlightLimits(deps.config.toolCalls);
  }

  /** Throws ToolExecutionError (with the id of its log row) when no answer came from the provider. */
  async forward(request: ProxyRequest): Promise<ProxyAnswer> {
    const executionId = newId('exec');
    const started = performance.now();
    const providerTime: ProviderTime = { ms: 0 };
    const logged: Logged = { request, executionId, started, providerTime };
    let release: (() => void) | undefined;
    try {
      const method = proxyMethod(request.method);
      const path = checkedPath(request.pathAndQuery);
      const found = await this.deps.accounts.findForCall({
        connector: request.connectionName,
        identifier: request.identifier,
      });
      if (!found) {
        const connection = await this.deps.connections.findByName(request.connectionName);
        if (!connection) throw new AppError('not_found', `connection ${request.connectionName} not found`);
        logged.connection = connection;
        logged.provider = this.deps.catalog.providers.get(connection.provider);
        throw new AppError(
          'not_found',
          `${request.identifier} has no connected account at connection ${request.connectionName}`,
        );
      }
      const { account, connection } = found;
      Object.assign(logged, { connection, account });
      // The sandbox serves its test-control API beside the emulated ones; no provider has it.
      if (connection.target === 'sandbox' && /^\/__sandbox(?:[/?]|$)/.test(path)) {
        throw new AppError('invalid_request', "the proxy path must be a path of the provider's API");
      }
      const provider = this.deps.catalog.providers.get(connection.provider);
      if (!provider?.apiOrigins.length) {
        throw new AppError('failed_precondition', `the provider ${connection.provider} declares no API origin`);
      }
      logged.provider = provider;
      release = this.inFlight.acquire(account.identifier);

      const answer = await forwardToProvider(
        accountClientOptions(this.deps, {
          provider,
          connection,
          account,
          accountFresh: found.fresh === true,
          providerTime,
          signal: request.signal,
        }),
        {
          method,
          url: `${provider.apiOrigins[0]}${path}`,
          headers: forwardedHeaders(request.headers, FORWARDED_REQUEST_HEADERS),
          ...(request.body && method !== 'GET' && method !== 'DELETE'
            ? {
                rawBody: {
                  contentType: request.headers.get('content-type') ?? 'application/octet-stream',
                  data: request.body,
                },
              }
            : {}),
        },
      );
      const max = this.deps.config.toolCalls.maxResultBytes;
      const bytes = Buffer.byteLength(answer.body);
      if (bytes > max) {
        throw new AppError(
          'tool_result_too_large',
          `the provider's answer is ${bytes} bytes, over this server's limit of ${max} bytes; ask for less`,
          { details: { result_bytes: bytes, max_result_bytes: max } },
        );
      }
      this.log(logged, answer.failure ? { code: answer.failure.code, message: answer.failure.message } : undefined);
      if (!answer.failure) this.deps.accounts.touch(account.id);
      return {
        status: answer.status,
        headers: forwardedHeaders(answer.headers, FORWARDED_ANSWER_HEADERS),
        body: answer.body,
        executionId,
      };
    } catch (error) {
      let failure = error instanceof AppError ? error : undefined;
      this.log(logged, {
        code: failure?.code ?? 'internal',
        message: failure?.message ?? 'the proxied call failed unexpectedly',
      });
      if (!failure) {
        this.deps.logger.error({ err: error, executionId }, 'proxied call crashed');
        failure = new AppError('internal', 'the proxied call failed unexpectedly');
      }
      throw new ToolExecutionError(failure, executionId);
    } finally {
      release?.();
    }
  }

  private log(logged: Logged, failure: { code: string; message: string } | undefined) {
    const { request, provider, connection, account } = logged;
    const durationMs = performance.now() - logged.started;
    const toolName = provider ? `${provider.name}_proxy` : 'proxy';
    this.deps.metrics?.toolCall(
      toolName,
      provider?.name,
      'API',
      failure ? failure.code : 'success',
      durationMs,
      logged.providerTime.ms,
    );
    const [path = '', query = ''] = request.pathAndQuery.split(/\?(.*)/s, 2);
    const loggedAt = this.deps.clock.now();
    this.deps.callLog.record({
      id: newSortableId('tcl', loggedAt),
      execution_id: logged.executionId,
      tool_name: toolName,
      provider: provider?.name ?? null,
      connection_id: connection?.id ?? null,
      connection_name: (connection?.name ?? request.connectionName).slice(0, 200),
      connected_account_id: account?.id ?? null,
      identifier: (account?.identifier ?? request.identifier).slice(0, 200),
      status: failure ? 'FAILED' : 'SUCCESS',
      error_code: failure?.code ?? null,
      error_message: failure ? redactErrorMessage(failure.message) : null,
      argument_summary: summarizeArguments({
        method: request.method.toUpperCase(),
        path,
        ...(query ? { query: Object.fromEntries(new URLSearchParams(query)) } : {}),
      }),
      duration_ms: Math.round(durationMs),
      source: 'API',
      attempt: 1,
      instance_id: null,
      created_at: new Date(loggedAt).toISOString(),
    });
  }
}

/** What one call's log row is made of, filled in as the call learns it. */
interface Logged {
  request: ProxyRequest;
  executionId: string;
  started: number;
  providerTime: ProviderTime;
  connection?: ConnectionRow;
  account?: AccountRow;
  provider?: ProviderDefinition | undefined;
}

function proxyMethod(method: string): ProxyMethod {
  const upper = method.toUpperCase();
  if (!PROXY_METHODS.has(upper)) {
    throw new AppError('invalid_request', `the proxy passes on GET, POST, PUT, PATCH and DELETE, not ${method}`);
  }
  return upper as ProxyMethod;
}

/**
 * The path must stay a path at the provider's origin: one leading slash (`//host` reads as
 * another host to some parsers), no backslash, no `.`/`..` segment, plain or percent-encoded.
 * The provider edge refuses these too; here the caller learns it as a bad request.
 */
function checkedPath(pathAndQuery: string): string {
  const path = pathAndQuery.split('?', 1)[0] ?? '';
  const climbs = path.split('/').some((part) => {
    const plain = part.replace(/%2e/gi, '.');
    return plain === '.' || plain === '..';
  });
  if (!path.startsWith('/') || path.startsWith('//') || /\\|%5c/i.test(path) || climbs) {
    throw new AppError(
      'invalid_request',
      "the proxy path must be a path at the provider's API origin: one leading slash, no backslash, no . or .. segment",
    );
  }
  return pathAndQuery;
}

function forwardedHeaders(from: { get(name: string): string | null }, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = from.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}
