import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { pathBelowMount } from './base-url.js';
import { googleErrorBody } from './google-errors.js';

/** A fault answers like Google does: small bodies. Bigger ones only ever served to exhaust memory. */
export const MAX_FAULT_BODY_BYTES = 65_536;
/** Faults waiting at once; a test sets a handful. */
export const MAX_STORED_FAULTS = 100;

const faultBody = z
  .unknown()
  .refine(
    (body) =>
      body === undefined ||
      Buffer.byteLength(typeof body === 'string' ? body : (JSON.stringify(body) ?? '')) <= MAX_FAULT_BODY_BYTES,
    { message: `a fault body may have at most ${MAX_FAULT_BODY_BYTES} bytes` },
  );

/** What tests post to /__sandbox/faults: "the next `times` calls matching `match` answer this". */
export const faultSpecSchema = z
  .object({
    match: z.object({
      method: z
        .string()
        .max(16)
        .transform((method) => method.toUpperCase())
        .optional(),
      /** Compared with the path below the sandbox root (`/gmail/v1/users/me/messages`), or the full path. */
      pathPrefix: z.string().max(2048).startsWith('/'),
    }),
    /** Answer with this status; without it the call goes through, after `delayMs`. */
    status: z.number().int().min(100).max(599).optional(),
    /** JSON value or text; defaults to Google's error body for `status`. */
    body: faultBody.optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
    /**
     * Let the call through, then hold its answer this long: the provider has acted (e.g. rotated
     * a refresh token) but the caller has not heard back yet. For crash-in-the-middle tests.
     */
    delayAfterMs: z.number().int().min(0).max(120_000).optional(),
    /** How many matching calls this fault applies to (default 1). */
    times: z.number().int().min(1).max(1_000_000).default(1),
  })
  .refine((spec) => spec.status !== undefined || spec.delayMs !== undefined || spec.delayAfterMs !== undefined, {
    message: 'a fault needs a status, a delayMs or a delayAfterMs',
  });

export type FaultSpec = z.input<typeof faultSpecSchema>;

export interface Fault {
  id: string;
  spec: z.output<typeof faultSpecSchema>;
  remaining: number;
}

export class FaultTable {
  private faults: Fault[] = [];
  private nextId = 1;

  get size(): number {
    return this.faults.length;
  }

  add(input: FaultSpec): Fault {
    if (this.faults.length >= MAX_STORED_FAULTS) throw new Error(`at most ${MAX_STORED_FAULTS} faults wait at once`);
    const spec = faultSpecSchema.parse(input);
    const fault: Fault = { id: `fault_${this.nextId++}`, spec, remaining: spec.times };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  clear(): void {
    this.faults = [];
  }

  /** Takes one use of the first fault matching the call, if any. */
  take(method: string, paths: string[]): Fault | undefined {
    const fault = this.faults.find(
      (candidate) =>
        (candidate.spec.match.method === undefined || candidate.spec.match.method === method) &&
        paths.some((path) => path.startsWith(candidate.spec.match.pathPrefix)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
    return fault;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Answers matching calls with the injected fault; works standalone and mounted under `/sandbox`. */
export function faultInjection(table: FaultTable): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    const relative = pathBelowMount(c);
    if (relative.startsWith('/__sandbox')) return next();
    const fault = table.take(c.req.method, [relative, path]);
    if (!fault) return next();
    const { spec } = fault;
    if (spec.delayMs) await sleep(spec.delayMs);
    if (spec.status === undefined) {
      await next();
      if (spec.delayAfterMs) await sleep(spec.delayAfterMs);
      return;
    }
    const headers = new Headers();
    if (spec.retryAfterSeconds !== undefined) headers.set('retry-after', String(spec.retryAfterSeconds));
    if (typeof spec.body === 'string') {
      headers.set('content-type', 'text/plain; charset=UTF-8');
      return new Response(spec.body, { status: spec.status, headers });
    }
    headers.set('content-type', 'application/json; charset=UTF-8');
    const body = spec.body === undefined ? googleErrorBody(spec.status) : spec.body;
    return new Response(JSON.stringify(body), { status: spec.status, headers });
  };
}
