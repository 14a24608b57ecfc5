import { type Context, Hono } from 'hono';
import { sql } from 'kysely';
import { managementApi, tokenEndpoint } from './api/index.js';
import { connectPages } from './connect-pages/routes.js';
import type { AppDeps, AppEnv, Services } from './context.js';
import { newId } from './crypto/random.js';
import { dashboard } from './dashboard/routes.js';
import { AppError, errorBody } from './errors.js';
import { redactUrl } from './logger.js';
import { mcpEndpoint } from './mcp-endpoint/endpoint.js';
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

export function createApp(deps: AppDeps): { app: Hono<AppEnv>; services: Services } {
  const services = createServices(deps);
  const { logger, config } = deps;
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const requestId = newId('evt').slice(4);
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    setResponseHeader(c, 'x-request-id', requestId);
    const status = c.res.status;
    if (status >= 500 || logger.isLevelEnabled('debug')) {
      logger[status >= 500 ? 'warn' : 'debug'](
        {
          requestId,
          method: c.req.method,
          path: redactUrl(c.req.url),
          status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  });

  app.onError((error, c) => {
    const requestId = c.get('requestId');
    if (error instanceof AppError) {
      const headers: Record<string, string> =
        error.code === 'unauthenticated' ? { 'www-authenticate': 'Bearer realm="switchboard"' } : {};
      return c.json({ ...error.toJSON(), request_id: requestId }, error.status as 400, headers);
    }
    logger.error({ requestId, err: error }, 'unhandled error');
    return c.json({ ...errorBody('internal', 'internal error'), request_id: requestId }, 500);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await sql`select 1`.execute(deps.db);
      return c.json({ status: 'ready', database: deps.engine });
    } catch {
      return c.json({ status: 'unavailable', database: deps.engine }, 503);
    }
  });

  app.route('/oauth', tokenEndpoint(services));
  app.route('/api/v1', managementApi(services));
  app.route('/', connectPages(services));
  app.route('/', mcpEndpoint(services));
  app.route('/dashboard', dashboard(services));
  if (deps.sandbox && config.sandbox.mounted) app.route('/sandbox', deps.sandbox);

  app.notFound((c) =>
    c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404),
  );
  return { app, services };
}
