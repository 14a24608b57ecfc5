import type { Context } from 'hono';
import type { SandboxContext, SandboxPrincipal } from '../context.js';
import { accessLevelRequired, CalendarApiError, invalidParameter, notFound } from './errors.js';
import { seedCalendarState } from './seed.js';
import type { AccessRole, CalendarRecord, CalendarState } from './state.js';
import { isValidTimeZone, parseInstant } from './time.js';

/** What every handler starts from: who calls, their Calendar state, and the sandbox's "now". */
export interface CalendarCall {
  principal: SandboxPrincipal;
  state: CalendarState;
  now: number;
  url: URL;
}

export function beginCall(ctx: SandboxContext, request: Request, scopes: readonly string[]): CalendarCall | Response {
  const principal = ctx.authenticate(request, [...scopes]);
  if (principal instanceof Response) return principal;
  const state = ctx.userData('calendar', principal.user, (user) => seedCalendarState(user, ctx.clock.now()));
  return { principal, state, now: ctx.clock.now(), url: new URL(request.url) };
}

/** `primary` is the user's own calendar, whose id is their email address. */
export function findCalendar(state: CalendarState, calendarId: string): CalendarRecord {
  const id = calendarId === 'primary' ? state.user.email : calendarId;
  const calendar = state.calendars.get(id) ?? state.calendars.get(id.toLowerCase());
  if (!calendar) throw notFound();
  return calendar;
}

const RANK: Record<AccessRole, number> = { freeBusyReader: 0, reader: 1, writer: 2, owner: 3 };

export const roleAtLeast = (role: AccessRole, minimum: AccessRole): boolean => RANK[role] >= RANK[minimum];

export function requireAccess(calendar: CalendarRecord, level: 'writer' | 'owner'): void {
  if (!roleAtLeast(calendar.accessRole, level)) throw accessLevelRequired(level);
}

/** Google answers a missing body or a body that is not JSON with 400 parseError. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new CalendarApiError(400, 'parseError', 'Parse Error');
  }
}

export function intParam(
  url: URL,
  name: string,
  range: { min: number; max: number; clampMax?: boolean },
): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value))
    throw invalidParameter(name, raw, 'Value must be an integer.');
  if (value < range.min) throw invalidParameter(name, raw, `Value must be at least ${range.min}.`);
  if (value > range.max) {
    if (range.clampMax) return range.max;
    throw invalidParameter(name, raw, `Value must be at most ${range.max}.`);
  }
  return value;
}

export function boolParam(url: URL, name: string): boolean | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw invalidParameter(name, raw, 'Value must be true or false.');
}

export function instantParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const instant = parseInstant(raw);
  if (instant === undefined) {
    throw new CalendarApiError(400, 'badRequest', 'Bad Request', { location: name, locationType: 'parameter' });
  }
  return instant;
}

export function timeZoneParam(url: URL, fallback: string): string {
  const raw = url.searchParams.get('timeZone');
  if (raw === null || raw === '') return fallback;
  if (!isValidTimeZone(raw)) throw invalidParameter('timeZone', raw, 'Unknown time zone.');
  return raw;
}

export function enumParam<T extends string>(url: URL, name: string, values: readonly T[]): T | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const found = values.find((v) => v === raw);
  if (found === undefined) throw invalidParameter(name, raw, `Value must be one of: ${values.join(', ')}.`);
  return found;
}

export const noContent = (): Response => new Response(null, { status: 204 });

export type CallHandler = (call: CalendarCall, c: Context) => Response | Promise<Response>;

/** Wraps a handler so it runs only for an authenticated caller holding one of the method's scopes. */
export const routeFactory =
  (ctx: SandboxContext) =>
  (scopes: readonly string[], handler: CallHandler) =>
  (c: Context): Response | Promise<Response> => {
    const call = beginCall(ctx, c.req.raw, scopes);
    return call instanceof Response ? call : handler(call, c);
  };
