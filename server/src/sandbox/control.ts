import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { faultSpecSchema } from './faults.js';
import { parseScopeParam } from './scopes.js';
import type { SandboxState } from './state.js';

/** Test-control API under `/__sandbox/`: not Google's, JSON in and out. */

const issueSchema = z.object({
  email: z.string(),
  scopes: z.union([z.array(z.string()), z.string()]),
  clientId: z.string().optional(),
  offline: z.boolean().optional(),
});

const optionsSchema = z.object({
  accessTokenTtlSeconds: z.number().int().min(1).optional(),
  rotateRefreshTokens: z.boolean().optional(),
});

const advanceSchema = z.object({ seconds: z.number().optional(), ms: z.number().optional() });

function problem(c: Context, status: 400 | 404, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

async function body<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.output<Schema> | Response> {
  const json: unknown = await c.req.json().catch(() => undefined);
  const parsed = schema.safeParse(json ?? {});
  if (!parsed.success) return problem(c, 400, 'validation_failed', z.prettifyError(parsed.error));
  return parsed.data;
}

export function createControlRoutes(state: SandboxState): Hono {
  const app = new Hono();

  app.get('/users', (c) => c.json({ users: state.users }));

  app.post('/tokens', async (c) => {
    const input = await body(c, issueSchema);
    if (input instanceof Response) return input;
    if (!state.findUser(input.email)) return problem(c, 404, 'not_found', `no sandbox user ${input.email}`);
    const scopes = parseScopeParam(Array.isArray(input.scopes) ? input.scopes.join(' ') : input.scopes);
    return c.json(
      state.issueTokenDirectly({ email: input.email, scopes, clientId: input.clientId, offline: input.offline }),
    );
  });

  app.post('/users/:email/expire-tokens', (c) => {
    const user = state.findUser(c.req.param('email'));
    if (!user) return problem(c, 404, 'not_found', `no sandbox user ${c.req.param('email')}`);
    return c.json({ expired: state.expireAccessTokensOf(user) });
  });

  app.post('/users/:email/revoke', async (c) => {
    const user = state.findUser(c.req.param('email'));
    if (!user) return problem(c, 404, 'not_found', `no sandbox user ${c.req.param('email')}`);
    const input = await body(c, z.object({ clientId: z.string().optional() }));
    if (input instanceof Response) return input;
    return c.json({ revoked: state.revokeGrantOf(user, input.clientId) });
  });

  app.get('/counters', (c) => c.json(state.readCounters()));

  app.post('/reset', (c) => {
    state.reset();
    return c.json({});
  });

  app.patch('/options', async (c) => {
    const input = await body(c, optionsSchema);
    if (input instanceof Response) return input;
    if (input.accessTokenTtlSeconds !== undefined) state.accessTokenTtlSeconds = input.accessTokenTtlSeconds;
    if (input.rotateRefreshTokens !== undefined) state.rotateRefreshTokens = input.rotateRefreshTokens;
    return c.json({
      accessTokenTtlSeconds: state.accessTokenTtlSeconds,
      rotateRefreshTokens: state.rotateRefreshTokens,
    });
  });

  app.get('/clock', (c) => c.json({ now: state.clock.now() }));

  app.post('/clock/advance', async (c) => {
    const input = await body(c, advanceSchema);
    if (input instanceof Response) return input;
    state.advanceClock((input.seconds ?? 0) * 1000 + (input.ms ?? 0));
    return c.json({ now: state.clock.now() });
  });

  app.get('/faults', (c) => c.json({ faults: state.faults.list() }));

  app.post('/faults', async (c) => {
    const input = await body(c, faultSpecSchema);
    if (input instanceof Response) return input;
    return c.json(state.addFault(input), 201);
  });

  app.delete('/faults', (c) => {
    state.faults.clear();
    return c.json({});
  });

  return app;
}
