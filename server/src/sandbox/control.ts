import { createHash, timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { faultSpecSchema, MAX_STORED_FAULTS } from './faults.js';
import { parseScopeParam } from './scopes.js';
import type { SandboxState } from './state.js';

/** Test-control API under `/__sandbox/`: not Google's, JSON in and out. */

/** A control request is a small JSON object; a fault body has its own, smaller cap. */
const MAX_CONTROL_BODY_BYTES = 1_048_576;

const issueSchema = z.object({
  email: z.string().max(320),
  scopes: z.union([z.array(z.string().max(300)).max(50), z.string().max(15_000)]),
  clientId: z.string().max(200).optional(),
  offline: z.boolean().optional(),
});

const optionsSchema = z.object({
  accessTokenTtlSeconds: z.number().int().min(1).optional(),
  rotateRefreshTokens: z.boolean().optional(),
});

const advanceSchema = z.object({ seconds: z.number().optional(), ms: z.number().optional() });

function problem(c: Context, status: 400 | 401 | 403 | 404 | 413 | 429, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

/** Who may use the control API. Without either field it is open (a sandbox for tests). */
export interface ControlAccess {
  /** Callers must send `Authorization: Bearer <secret>`. */
  secret?: string;
  /** Without a secret: only callers on this machine, and not relayed by a proxy. */
  loopbackOnly?: boolean;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function fromThisMachine(c: Context): boolean {
  // A proxy on the same host connects from loopback on behalf of anyone: its headers give it away.
  if (c.req.header('forwarded') || c.req.header('x-forwarded-for') || c.req.header('x-real-ip')) return false;
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    return false; // not served by @hono/node-server: no socket to vouch for the caller
  }
  return address === '::1' || /^(::ffff:)?127\./.test(address ?? '');
}

function controlAccess(access: ControlAccess): MiddlewareHandler {
  const expected = access.secret === undefined ? undefined : digest(access.secret);
  return async (c, next) => {
    if (expected) {
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
      if (!presented || !timingSafeEqual(digest(presented), expected)) {
        return problem(
          c,
          401,
          'unauthenticated',
          'the sandbox control API needs Authorization: Bearer <SWITCHBOARD_SANDBOX_CONTROL_SECRET>',
        );
      }
    } else if (access.loopbackOnly && !fromThisMachine(c)) {
      return problem(
        c,
        403,
        'forbidden',
        'the sandbox control API answers only callers on this machine; set SWITCHBOARD_SANDBOX_CONTROL_SECRET to use it from elsewhere',
      );
    }
    return next();
  };
}

async function body<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.output<Schema> | Response> {
  const json: unknown = await c.req.json().catch(() => undefined);
  const parsed = schema.safeParse(json ?? {});
  if (!parsed.success) return problem(c, 400, 'validation_failed', z.prettifyError(parsed.error));
  return parsed.data;
}

export function createControlRoutes(state: SandboxState, access: ControlAccess = {}): Hono {
  const app = new Hono();
  app.use('*', controlAccess(access));
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_CONTROL_BODY_BYTES,
      onError: (c) =>
        problem(c, 413, 'payload_too_large', `a control request may carry ${MAX_CONTROL_BODY_BYTES} bytes`),
    }),
  );

  app.get('/users', (c) => c.json({ users: state.users }));

  app.post('/tokens', async (c) => {
    const input = await body(c, issueSchema);
    if (input instanceof Response) return input;
    if (!state.findUser(input.email)) return problem(c, 404, 'not_found', `no sandbox user ${input.email}`);
    const scopes = parseScopeParam(Array.isArray(input.scopes) ? input.scopes.join(' ') : input.scopes);
    return c.json(
      state.oauth.issueTokenDirectly({ email: input.email, scopes, clientId: input.clientId, offline: input.offline }),
    );
  });

  app.post('/users/:email/expire-tokens', (c) => {
    const user = state.findUser(c.req.param('email'));
    if (!user) return problem(c, 404, 'not_found', `no sandbox user ${c.req.param('email')}`);
    return c.json({ expired: state.oauth.expireAccessTokensOf(user) });
  });

  app.post('/users/:email/revoke', async (c) => {
    const user = state.findUser(c.req.param('email'));
    if (!user) return problem(c, 404, 'not_found', `no sandbox user ${c.req.param('email')}`);
    const input = await body(c, z.object({ clientId: z.string().optional() }));
    if (input instanceof Response) return input;
    return c.json({ revoked: state.oauth.revokeGrantOf(user, input.clientId) });
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

  app.post('/oidc/rotate-key', (c) => c.json({ generation: state.rotateIdTokenKey() }));

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
    if (state.faults.size >= MAX_STORED_FAULTS) {
      return problem(
        c,
        429,
        'too_many_faults',
        `at most ${MAX_STORED_FAULTS} faults wait at once; DELETE /faults first`,
      );
    }
    return c.json(state.addFault(input), 201);
  });

  app.delete('/faults', (c) => {
    state.faults.clear();
    return c.json({});
  });

  return app;
}
