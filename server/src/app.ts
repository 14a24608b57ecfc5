import { type Context, Hono } from 'hono';
import { managementApi, managementRouteDocs, proxyRoutes, tokenEndpoint, tokenEndpointDocs } from './api/index.js';
import { apiReference } from './api-reference/routes.js';
import { isLoopbackHostname } from './config.js';
import { connectPageDocs } from './connect-pages/route-docs.js';
import { connectPages } from './connect-pages/routes.js';
import type { AppDeps, AppEnv, Services } from './context.js';
import { newId, safeEqual } from './crypto/random.js';
import { dashboard } from './dashboard/routes.js';
import { AppError, errorBody } from './errors.js';
import { requestTelemetry } from './http/request-telemetry.js';
import { mountedAt } from './http/route-docs.js';
import { mcpEndpoint } from './mcp-endpoint/endpoint.js';
import { jsonRpcError } from './mcp-endpoint/request-guard.js';
import { mcpEndpointDocs } from './mcp-endpoint/route-docs.js';
import { oauthServerDocs } from './oauth-server/route-docs.js';
import { oauthServer } from './oauth-server/routes.js';
import { checkReadiness } from './observability/readiness.js';
import { retryAfterSeconds } from './rate-limits/rate-limiter.js';
import { createServices } from './services.js';

export type { AppDeps, AppEnv, Services } from './context.js';
export { createServices } from './services.js';

/**
 * Sets a header on the finished response in place. Hono's `c.header()` after `next()`
 * rebuilds the response around its body stream, which turns @hono/node-server's buffered
 * fast path (a string body written in one go) into a stream read; only a response whose
 * headers are immutable (one that came from fetch) needs that rebuild.
 */
function setResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}

/** 413 in the shape the path's callers read: RFC 6749 at the token endpoint, JSON-RPC at MCP, else ours. */
function declaredTooLarge(path: string, maxBytes: number): Response {
  const message = `the body is larger than ${maxBytes} bytes`;
  const headers = { 'cache-control': 'no-store' };
  if (path.startsWith('/oauth/')) {
    return Response.json({ error: 'invalid_request', error_description: message }, { status: 413, headers });
  }
  if (path.startsWith('/mcp/')) return jsonRpcError(413, -32000, `Payload Too Large: ${message}`);
  return Response.json(errorBody('payload_too_large', message), { status: 413, headers });
}

export function createApp(deps: AppDeps): { app: Hono<AppEnv>; services: Services } {
  const services = createServices(deps);
  const { logger, config } = deps;
  const app = new Hono<AppEnv>();

  // Browsers that once reached the public URL over https never fall back to http for it. Not
  // for a loopback host (`--tls-self-signed` on https://localhost): browsers would then force
  // https on every localhost port, breaking every other local development server.
  const publicUrl = new URL(config.publicUrl);
  const hsts = publicUrl.protocol === 'https:' && !isLoopbackHostname(publicUrl.hostname);
  // Outermost: the request's span (when tracing) and its access log line.
  app.use('*', requestTelemetry(deps));
  app.use('*', async (c, next) => {
    const requestId = newId('evt').slice(4);
    c.set('requestId', requestId);
    await next();
    setResponseHeader(c, 'x-request-id', requestId);
    if (hsts) setResponseHeader(c, 'strict-transport-security', 'max-age=31536000; includeSubDomains');
  });

  // No route reads more than maxBodyBytes (each reader also counts what actually arrives);
  // a body declared larger is refused before any route runs. The mounted sandbox keeps its own
  // limits (sandbox/body-limits.ts): Gmail's take a whole message, up to 35 MB.
  app.use('*', async (c, next) => {
    const declared = Number(c.req.header('content-length') ?? '0');
    if (!(declared > config.maxBodyBytes) || c.req.path.startsWith('/sandbox/')) return next();
    return declaredTooLarge(c.req.path, config.maxBodyBytes);
  });

  app.onError((error, c) => {
    const requestId = c.get('requestId');
    if (error instanceof AppError) {
      const headers: Record<string, string> =
        error.code === 'unauthenticated' ? { 'www-authenticate': 'Bearer realm="switchboard"' } : {};
      const retryAfter = retryAfterSeconds(error);
      if (retryAfter) headers['retry-after'] = retryAfter;
      return c.json({ ...error.toJSON(), request_id: requestId }, error.status as 400, headers);
    }
    logger.error({ requestId, err: error }, 'unhandled error');
    return c.json({ ...errorBody('internal', 'internal error'), request_id: requestId }, 500);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const { ready, checks } = await checkReadiness(deps);
    return c.json({ status: ready ? 'ready' : 'unavailable', database: deps.engine, checks }, ready ? 200 : 503);
  });
  // Off unless SWITCHBOARD_METRICS_TOKEN is set (SWITCHBOARD_METRICS_PORT serves them apart, from main.ts).
  const metricsToken = config.metrics.token;
  if (metricsToken) {
    app.get('/metrics', async (c) => {
      const presented = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
      if (!safeEqual(presented, metricsToken)) {
        return c.json(
          errorBody('unauthenticated', 'the metrics need the bearer token of SWITCHBOARD_METRICS_TOKEN'),
          401,
          {
            'www-authenticate': 'Bearer realm="switchboard-metrics"',
          },
        );
      }
      return c.body(await services.metrics.scrape(), 200, {
        'content-type': services.metrics.contentType,
        'cache-control': 'no-store',
      });
    });
  }

  app.route('/oauth', tokenEndpoint(services));
  app.route('/api/v1', managementApi(services));
  app.route('/proxy', proxyRoutes(services));
  app.route('/', connectPages(services));
  app.route('/', mcpEndpoint(services));
  app.route('/', oauthServer(services));
  app.route('/dashboard', dashboard(services));
  // The reference of what is mounted above, from each edge's own route docs.
  const docs = [
    ...mountedAt('/oauth', tokenEndpointDocs),
    ...mountedAt('/api/v1', managementRouteDocs),
    ...connectPageDocs,
    ...mcpEndpointDocs,
    ...oauthServerDocs,
  ];
  app.route('/', apiReference(docs, { publicUrl: config.publicUrl, version: '0.1.0' }));
  if (deps.sandbox && config.sandbox.mounted) app.route('/sandbox', deps.sandbox);

  app.notFound((c) =>
    c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404),
  );
  return { app, services };
}
