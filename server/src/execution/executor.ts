import type { Kysely } from 'kysely';
import type { ConnectFlow } from '../accounts/connect-flow.js';
import type { ConnectedAccounts } from '../accounts/connected-accounts.js';
import type { ConnectionRow, Connections } from '../connections/connections.js';
import type { AccountRow } from '../connections/token-vault.js';
import { newId, newSortableId } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { ACCOUNT_ERRORS, AppError, ProviderError } from '../errors.js';
import type { Logger } from '../logger.js';
import { scopeNeeds } from '../mcp/scope-needs.js';
import type { Metrics } from '../observability/metrics.js';
import { inSpan } from '../observability/tracing.js';
import type { Catalog } from '../providers/index.js';
import type { ProviderDefinition, ToolDefinition } from '../providers/types.js';
import { validationError } from '../validation.js';
import { type AccountCallDeps, accountClientOptions } from './account-client-options.js';
import { redactErrorMessage, summarizeArguments } from './call-details.js';
import type { ToolCallLog } from './call-log.js';
import { InFlightLimits } from './in-flight.js';
import { createProviderClient } from './provider-client.js';
import type { ProviderTime } from './provider-observer.js';
import { ToolExecutionError } from './tool-execution-error.js';

export type ToolCallSource = 'API' | 'MCP' | 'GRPC';

/**
 * Which account a call runs on. With an account id, a connector or identifier given too must be
 * that account's: a backend that passes its signed-in user's identifier beside an account id
 * taken from elsewhere gets a refusal, not another user's account.
 */
export type AccountSelector =
  | { connectedAccountId: string; connector?: string; identifier?: string }
  | { connector: string; identifier: string };

export interface ExecuteRequest {
  toolName: string;
  params: unknown;
  account: AccountSelector;
  source: ToolCallSource;
  instanceId?: string;
  /**
   * The tools the caller's MCP config maps from this connection (empty: all of them): a link
   * issued for a failure asks for the scopes they need beyond the connection's.
   */
  mappedTools?: string[];
  signal?: AbortSignal;
  /**
   * The account's rows as the caller just read them from the database (the MCP instance
   * lookup on a cold cache): used for this call instead of looking the account up again.
   */
  prefetched?: { account: AccountRow; connection: ConnectionRow };
  /** 1 for a first call; n for the caller's (n-1)th retry of the same failed call (see grpc/retries.ts). */
  attempt?: number;
}

export interface ExecuteResult {
  data: unknown;
  /** `data` serialized as JSON, at most `config.toolCalls.maxResultBytes` bytes; edges may send it as is. */
  json: string;
  executionId: string;
}

interface Deps extends AccountCallDeps {
  db: Kysely<Database>;
  connections: Connections;
  logger: Logger;
  catalog: Catalog;
  accounts: ConnectedAccounts;
  connectFlow: ConnectFlow;
  callLog: ToolCallLog;
  /** Calls are counted and timed here when given. */
  metrics?: Metrics;
}

/**
 * The one path every tool call takes, from REST or MCP: find the tool, validate its input,
 * find the user's account and check it can run the tool, run it through the provider edge
 * with a token the tool never sees, and record one tool_call_logs row (no tokens, no bodies; written in batches, see call-log.ts).
 */
export class ToolExecutor {
  private readonly inFlight: InFlightLimits;

  constructor(private readonly deps: Deps) {
    this.inFlight = new InFlightLimits(deps.config.toolCalls);
  }

  tool(name: string): { provider: ProviderDefinition; tool: ToolDefinition } {
    const entry = this.deps.catalog.tools.get(name);
    if (!entry) throw new AppError('tool_not_found', `there is no tool named ${name}`);
    return entry;
  }

  /** The request's prefetched rows when they are the account it names, as fresh rows. */
  private prefetchedFor(request: ExecuteRequest) {
    const { prefetched, account } = request;
    if (!prefetched || !('connector' in account)) return undefined;
    if (prefetched.connection.name !== account.connector || prefetched.account.identifier !== account.identifier)
      return undefined;
    return { ...prefetched, fresh: true };
  }

  /** Runs the tool; a failure is a ToolExecutionError carrying the execution id of its log row. */
  execute(request: ExecuteRequest): Promise<ExecuteResult> {
    if (!this.deps.config.tracing.enabled) return this.run(request);
    const tool = this.deps.catalog.tools.get(request.toolName);
    const attributes = tool ? { 'switchboard.tool': tool.tool.name, 'switchboard.provider': tool.provider.name } : {};
    return inSpan('tool.call', { ...attributes, 'switchboard.source': request.source }, () => this.run(request));
  }

  private async run(request: ExecuteRequest): Promise<ExecuteResult> {
    const executionId = newId('exec');
    const started = performance.now();
    const providerTime: ProviderTime = { ms: 0 };
    let connection: ConnectionRow | undefined;
    let account: AccountRow | undefined;
    let providerName: string | undefined;
    let toolScopes: string[] = [];
    const identifierHint = request.account.identifier;
    let release: (() => void) | undefined;
    try {
      const { provider, tool } = this.tool(request.toolName);
      providerName = provider.name;
      toolScopes = tool.scopes;
      const parsed = tool.input.safeParse(request.params ?? {});
      if (!parsed.success) throw validationError(parsed.error, 'tool_input_invalid');

      const found =
        this.prefetchedFor(request) ??
        (await this.deps.accounts.findForCall(
          'connectedAccountId' in request.account ? { id: request.account.connectedAccountId } : request.account,
        ));
      if (!found) {
        if (!('connectedAccountId' in request.account)) {
          // Unknown account for a known connection: create it pending, and hand back the link.
          const connectionRow = await this.deps.connections.findByName(request.account.connector);
          if (!connectionRow) throw new AppError('not_found', `connection ${request.account.connector} not found`);
          connection = connectionRow;
          await this.checkProvider(connectionRow, provider, tool);
          throw await this.withAuthLink(
            new AppError(
              'account_not_connected',
              `${request.account.identifier} has not connected ${connectionRow.name} yet`,
            ),
            connectionRow,
            request.account.identifier,
            request.mappedTools,
          );
        }
        throw new AppError('not_found', `connected account ${request.account.connectedAccountId} not found`);
      }
      const selector = request.account;
      if (
        'connectedAccountId' in selector &&
        ((selector.connector !== undefined && selector.connector !== found.connection.name) ||
          (selector.identifier !== undefined && selector.identifier !== found.account.identifier))
      ) {
        throw new AppError(
          'validation_failed',
          `connected account ${selector.connectedAccountId} is not the account of the connector and identifier given; give one or the other`,
        );
      }
      connection = found.connection;
      account = found.account;
      const accountFresh = found.fresh === true;
      await this.checkProvider(connection, provider, tool);
      this.checkScopes(account, tool);
      // Taken before the token and the provider call: those are what hold memory and sockets.
      release = this.inFlight.acquire(account.identifier);

      const api = createProviderClient(
        accountClientOptions(this.deps, {
          provider,
          connection,
          account,
          accountFresh,
          providerTime,
          signal: request.signal,
        }),
      );
      const data = await tool.run(parsed.data, {
        api,
        signal: request.signal ?? new AbortController().signal,
        now: () => this.deps.clock.now(),
        maxResultBytes: this.deps.config.toolCalls.maxResultBytes,
      });
      const json = this.boundedJson(tool.name, data ?? {});
      release();
      release = undefined;
      this.log(request, executionId, started, {
        connection,
        account,
        providerName,
        status: 'SUCCESS',
        providerMs: providerTime.ms,
      });
      this.deps.accounts.touch(account.id);
      return { data: data ?? {}, json, executionId };
    } catch (error) {
      release?.();
      let failure = error instanceof AppError ? error : undefined;
      if (failure?.code === 'insufficient_scope' && connection) {
        failure = reauthorizeThroughApp(failure, connection, toolScopes);
      } else if (failure && ACCOUNT_ERRORS.has(failure.code) && connection && !failure.details?.authentication_link) {
        failure = await this.withAuthLink(
          failure,
          connection,
          account?.identifier ?? identifierHint ?? '',
          request.mappedTools,
        );
      }
      this.log(request, executionId, started, {
        connection,
        account,
        providerName,
        status: 'FAILED',
        errorCode: failure?.code ?? 'internal',
        errorMessage: failure?.message ?? 'the tool failed unexpectedly',
        providerMs: providerTime.ms,
      });
      if (!failure) {
        this.deps.logger.error({ err: error, tool: request.toolName, executionId }, 'tool crashed');
        failure = new AppError('internal', 'the tool failed unexpectedly');
      }
      throw new ToolExecutionError(failure, executionId);
    }
  }

  /**
   * The result as JSON, refused whole when it is over the configured size: an edge never sends
   * a partial result, and a caller that asked for too much learns how to ask for less.
   */
  private boundedJson(toolName: string, data: unknown): string {
    const json = JSON.stringify(data) ?? '{}';
    const max = this.deps.config.toolCalls.maxResultBytes;
    // A JS string never has more UTF-8 bytes than 3 per UTF-16 unit; count exactly only near the limit.
    const bytes = json.length * 3 <= max ? json.length : Buffer.byteLength(json);
    if (bytes <= max) return json;
    throw new AppError(
      'tool_result_too_large',
      `the result of ${toolName} is ${bytes} bytes, over this server's limit of ${max} bytes; ask for less (fewer or smaller items, a narrower query)`,
      { details: { result_bytes: bytes, max_result_bytes: max } },
    );
  }

  private async checkProvider(connection: ConnectionRow, provider: ProviderDefinition, tool: ToolDefinition) {
    if (connection.provider !== provider.name) {
      throw new AppError(
        'validation_failed',
        `tool ${tool.name} belongs to ${provider.name}, but connection ${connection.name} is ${connection.provider}`,
      );
    }
  }

  /** When the provider told us what it granted, refuse early instead of letting it answer 403. */
  private checkScopes(account: AccountRow, tool: ToolDefinition) {
    if (account.status !== 'ACTIVE') return;
    const granted = JSON.parse(account.granted_scopes) as string[];
    if (!granted.length || !tool.scopes.length) return;
    if (tool.scopes.some((scope) => granted.includes(scope))) return;
    throw new AppError(
      'insufficient_scope',
      `${tool.name} needs one of these scopes, which the user did not grant: ${tool.scopes.join(', ')}`,
      { details: { required_scopes: tool.scopes, granted_scopes: granted } },
    );
  }

  private async withAuthLink(
    error: AppError,
    connection: ConnectionRow,
    identifier: string,
    mappedTools?: string[],
  ): Promise<AppError> {
    if (!identifier) return error;
    const extraScopes = mappedTools
      ? scopeNeeds(
          this.deps.catalog,
          { provider: connection.provider, tools: mappedTools },
          JSON.parse(connection.scopes),
        ).extra
      : undefined;
    const { link, expiry } = await this.deps.connectFlow.authLink(connection, identifier, {
      source: 'tool_error',
      extraScopes,
    });
    const message = `${error.message}. Ask the user to open this link to connect ${connection.name}: ${link}`;
    const Kind = error instanceof ProviderError ? ProviderError : AppError;
    return new Kind(error.code, message, {
      cause: error,
      details: { ...error.details, connection_name: connection.name, authentication_link: link, link_expiry: expiry },
    });
  }

  private log(
    request: ExecuteRequest,
    executionId: string,
    started: number,
    outcome: {
      connection?: ConnectionRow;
      account?: AccountRow;
      providerName?: string;
      status: 'SUCCESS' | 'FAILED';
      errorCode?: string;
      errorMessage?: string;
      providerMs: number;
    },
  ) {
    const durationMs = performance.now() - started;
    // A tool name is a label only when the catalog has it: an unknown name is whatever the caller sent.
    this.deps.metrics?.toolCall(
      outcome.providerName ? request.toolName : undefined,
      outcome.providerName,
      request.source,
      outcome.status === 'SUCCESS' ? 'success' : (outcome.errorCode ?? 'internal'),
      durationMs,
      outcome.providerMs,
    );
    const loggedAt = this.deps.clock.now();
    this.deps.callLog.record({
      id: newSortableId('tcl', loggedAt),
      execution_id: executionId,
      tool_name: request.toolName.slice(0, 200),
      provider: outcome.providerName ?? null,
      connection_id: outcome.connection?.id ?? null,
      connection_name: outcome.connection?.name ?? request.account.connector ?? null,
      connected_account_id: outcome.account?.id ?? null,
      identifier: outcome.account?.identifier ?? request.account.identifier ?? null,
      status: outcome.status,
      error_code: outcome.errorCode ?? null,
      error_message: outcome.errorMessage ? redactErrorMessage(outcome.errorMessage) : null,
      argument_summary: summarizeArguments(request.params),
      duration_ms: Math.round(durationMs),
      source: request.source,
      attempt: request.attempt ?? 1,
      instance_id: request.instanceId ?? null,
      created_at: new Date(loggedAt).toISOString(),
    });
  }
}

/**
 * A missing scope on an ACTIVE account: the agent gets no link, since a link lets whoever
 * opens it re-bind the account; the user re-authorizes through the app (magic_link there).
 */
function reauthorizeThroughApp(error: AppError, connection: ConnectionRow, toolScopes: string[]): AppError {
  const required = (error.details?.required_scopes as string[] | undefined) ?? toolScopes;
  const Kind = error instanceof ProviderError ? ProviderError : AppError;
  return new Kind(
    error.code,
    `${error.message}. The user has not granted ${required.length ? required.join(' or ') : 'the scope this tool needs'} on ${connection.name}: ask the user to re-authorize ${connection.name} through your app (the instance's auth state with include_auth_links gives a link that asks for the missing scopes).`,
    { cause: error, details: { ...error.details, connection_name: connection.name, required_scopes: required } },
  );
}
