import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Config } from '../config.js';
import type { AppEnv } from '../context.js';
import type { Logger } from '../logger.js';
import { extractTraceContext, tracer } from '../observability/tracing.js';

/**
 * The route pattern that answered (`/mcp/i/:secret`, `/api/v1/connections/:id`), never the
 * path itself: paths carry capability secrets, ids and identifiers. A request no route
 * answered reads `unmatched`.
 */
function routeOf(c: Context<AppEnv>): string {
  const pattern = routePath(c);
  return pattern === '*' || pattern === '/*' || pattern === '' ? 'unmatched' : pattern;
}

/**
 * The outermost middleware: with tracing on, a server span per request that continues the
 * caller's trace (W3C `traceparent`, never its `baggage`) and is the active context of
 * everything under it; and one access log line per request at info (method, route pattern,
 * status, duration, request id, trace id), unless SWITCHBOARD_ACCESS_LOG=false, in which
 * case only 5xx answers are logged (at warn) and the rest at debug.
 */
export function requestTelemetry(deps: { config: Config; logger: Logger }): MiddlewareHandler<AppEnv> {
  const { config, logger } = deps;
  const log = (c: Context<AppEnv>, started: number, traceId: string | undefined) => {
    const status = c.res.status;
    const level = config.accessLog ? (status >= 500 ? 'warn' : 'info') : status >= 500 ? 'warn' : 'debug';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route: routeOf(c),
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(traceId ? { traceId } : {}),
      },
      'request',
    );
  };

  if (!config.tracing.enabled) {
    return async (c, next) => {
      const started = performance.now();
      await next();
      log(c, started, undefined);
    };
  }

  return async (c, next) => {
    const started = performance.now();
    const parent = extractTraceContext(c.req.raw.headers);
    const span = tracer.startSpan(
      c.req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method } },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = routeOf(c);
      const status = c.res.status;
      span.updateName(`${c.req.method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      log(c, started, span.spanContext().traceId);
    }
  };
}
