import {
  type Attributes,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';

/**
 * Spans through `@opentelemetry/api` only. Without an SDK registered (no
 * OTEL_EXPORTER_OTLP_ENDPOINT) the API hands out no-op spans; the request middleware and the
 * database plugin are not even installed then, so tracing costs nothing when it is off.
 * Span names and attributes carry route patterns, tool, provider and host names, never a
 * token, a capability secret, an id or a user identifier.
 */
export const tracer = trace.getTracer('switchboard');

/**
 * The only propagation headers that cross our edges: W3C trace context. A caller's `baggage`
 * (tenant, session, user ids…) is theirs, not Google's, so whatever propagators are registered,
 * it is neither taken in nor passed on.
 */
const TRACE_CONTEXT_HEADERS = ['traceparent', 'tracestate'] as const;

/** The caller's trace context, from a request's headers, with nothing else they sent. */
export function extractTraceContext(headers: Headers): Context {
  const carrier: Record<string, string> = {};
  for (const name of TRACE_CONTEXT_HEADERS) {
    const value = headers.get(name);
    if (value !== null) carrier[name] = value;
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Adds the trace context of `ctx` (traceparent, tracestate), and nothing else, to outgoing headers. */
export function injectTraceContext(ctx: Context, headers: Record<string, string>): void {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  for (const name of TRACE_CONTEXT_HEADERS) {
    const value = carrier[name];
    if (value !== undefined) headers[name] = value;
  }
}

/** Runs `work` in a child span of the active one; the span records a thrown error and ends either way. */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** What a SQL statement does (SELECT, INSERT, …) and to which table, read from Kysely's tree. */
function describeQuery(node: RootOperationNode): { operation: string; table: string | undefined } {
  const operation = node.kind.replace(/QueryNode$|Node$/, '').toUpperCase();
  const tableOf = (table: unknown): string | undefined => {
    const named = table as { kind?: string; table?: { identifier?: { name?: string } } } | undefined;
    return named?.kind === 'TableNode' ? named.table?.identifier?.name : undefined;
  };
  switch (node.kind) {
    case 'SelectQueryNode':
      return { operation, table: tableOf(node.from?.froms[0]) };
    case 'InsertQueryNode':
    case 'DeleteQueryNode':
    case 'UpdateQueryNode':
      return {
        operation,
        table: tableOf(
          node.kind === 'InsertQueryNode'
            ? node.into
            : node.kind === 'DeleteQueryNode'
              ? node.from.froms[0]
              : node.table,
        ),
      };
    default:
      // Raw SQL (sql`…`): its text may hold literals, so only its kind is named.
      return { operation: node.kind === 'RawNode' ? 'RAW' : operation, table: undefined };
  }
}

/**
 * A span per database statement, as a Kysely plugin: opened when the query is compiled (in
 * the caller's context, so it nests under the request's span) and closed when its result
 * arrives. A statement that throws leaves its span unended: it is dropped, not exported.
 */
export class DatabaseTracing implements KyselyPlugin {
  private readonly spans = new WeakMap<object, Span>();

  constructor(private readonly system: 'sqlite' | 'postgresql') {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const { operation, table } = describeQuery(args.node);
    const span = tracer.startSpan(table ? `db ${operation} ${table}` : `db ${operation}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': this.system,
        'db.operation.name': operation,
        ...(table ? { 'db.collection.name': table } : {}),
      },
    });
    this.spans.set(args.queryId, span);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const span = this.spans.get(args.queryId);
    if (span) {
      this.spans.delete(args.queryId);
      span.end();
    }
    return args.result;
  }
}

/**
 * Starts the OpenTelemetry SDK with the OTLP/HTTP exporter, configured by the standard OTEL_*
 * variables (endpoint, headers, service name…), which the exporter reads itself. Loaded only
 * when asked for: the SDK is a few MB no default start needs.
 */
export async function startTracing(serviceName: string): Promise<{ shutdown(): Promise<void> }> {
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { W3CTraceContextPropagator },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The AsyncLocalStorage context manager and the W3C trace-context propagator alone: the
  // default would add the baggage propagator, and with it callers' baggage to provider requests.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return { shutdown: () => provider.shutdown() };
}
