import { Hono } from 'hono';
import type { AppEnv, Services } from '../context.js';
import { AppError } from '../errors.js';
import { ToolExecutionError } from '../execution/tool-execution-error.js';
import { readBodyText } from '../http/body.js';
import { requireManagementToken } from './management-auth.js';
import { toolFailureResponse } from './tool-failure.js';

/** Answers that carry no body by definition (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * `{method} /proxy{path}`: the SDKs' `actions.request`. The account comes from the headers
 * `connection_name` and `identifier` (underscores, as both SDKs send them; `connection-name`
 * too, for proxies in front of us that drop underscore headers, as nginx does by default).
 * Needs an admin client's management token: even a GET acts as the user at the provider (it
 * reads their mail), which is what running a tool does, and a `read` client may run none.
 */
export function proxyRoutes(services: Services): Hono<AppEnv> {
  const { proxy, config } = services;
  const app = new Hono<AppEnv>();
  app.use('*', requireManagementToken(services));
  app.all('*', async (c) => {
    if (c.get('clientScope') !== 'admin') {
      throw new AppError(
        'forbidden',
        '/proxy acts as the user at the provider (a GET reads their mail); it needs an admin API client (scope "admin"), as running a tool does',
      );
    }
    const connectionName = c.req.header('connection_name') ?? c.req.header('connection-name');
    const identifier = c.req.header('identifier');
    if (!connectionName || !identifier) {
      throw new AppError('validation_failed', 'give the headers connection_name and identifier');
    }
    const url = new URL(c.req.url);
    const method = c.req.method.toUpperCase();
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBodyText(c.req.raw, config.maxBodyBytes);
    try {
      const answer = await proxy.forward({
        connectionName,
        identifier,
        method,
        pathAndQuery: `${url.pathname.slice('/proxy'.length)}${url.search}`,
        headers: c.req.raw.headers,
        body,
        signal: c.req.raw.signal,
      });
      return new Response(NULL_BODY_STATUSES.has(answer.status) ? null : answer.body, {
        status: answer.status,
        headers: { ...answer.headers, 'x-switchboard-execution-id': answer.executionId },
      });
    } catch (error) {
      if (error instanceof ToolExecutionError) return toolFailureResponse(c, error);
      throw error;
    }
  });
  return app;
}
