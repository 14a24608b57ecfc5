import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { SandboxContext } from '../context.js';
import { boolParam, findCalendar, intParam, noContent, readJson, requireAccess, routeFactory } from './call.js';
import { badRequest, CalendarApiError, missing, notFound } from './errors.js';
import { mergePatch, parseBody } from './event-input.js';
import { etagOf } from './ids.js';
import { calendarScopes } from './scopes.js';
import { type AclRecord, type CalendarState, nextRevision } from './state.js';
import { decodePageToken, decodeSyncToken, encodePageToken, encodeSyncToken } from './tokens.js';

/** calendars/{calendarId}/acl: sharing rules, ids like `user:ann@example.com`, `domain:example.com`, `default`. */
const ruleInput = z.object({
  role: z.enum(['none', 'freeBusyReader', 'reader', 'writer', 'owner']).nullish(),
  scope: z.object({ type: z.enum(['default', 'user', 'group', 'domain']), value: z.string().nullish() }).nullish(),
});

function renderRule(rule: AclRecord): Record<string, unknown> {
  const scope: Record<string, string> = { type: rule.scope.type };
  if (rule.scope.value) scope.value = rule.scope.value;
  return { kind: 'calendar#aclRule', etag: etagOf(rule.updated, rule.revision), id: rule.id, scope, role: rule.role };
}

function ruleId(scope: AclRecord['scope']): string {
  return scope.type === 'default' ? 'default' : `${scope.type}:${scope.value ?? ''}`;
}

/** Changing or dropping one's own owner rule would lock the owner out; Google refuses it. */
function guardOwnRule(state: CalendarState, rule: AclRecord, newRole?: string): void {
  if (rule.id === `user:${state.user.email}` && newRole !== 'owner') {
    throw new CalendarApiError(400, 'cannotChangeOwnAcl', 'Cannot change your own access level.');
  }
}

export function registerAclRoutes(app: Hono, ctx: SandboxContext): void {
  const route = routeFactory(ctx);
  const base = '/calendars/:calendarId/acl';
  const calendarOf = (call: { state: CalendarState }, c: Context) => {
    const calendar = findCalendar(call.state, c.req.param('calendarId') ?? '');
    requireAccess(calendar, 'owner');
    return calendar;
  };
  const findRule = (rules: Map<string, AclRecord>, c: Context) => {
    const rule = rules.get(c.req.param('ruleId') ?? '');
    if (!rule) throw notFound();
    if (rule.deleted) throw notFound();
    return rule;
  };
  const validated = (input: z.infer<typeof ruleInput>) => {
    if (!input.role) throw missing('Missing role.');
    if (!input.scope) throw missing('Missing scope.');
    if (input.scope.type === 'default' && input.scope.value) {
      throw badRequest('The scope value must be empty for the default scope.');
    }
    if (input.scope.type !== 'default' && !input.scope.value) throw missing('Missing scope value.');
    const value = input.scope.value?.toLowerCase();
    return { role: input.role, scope: value ? { type: input.scope.type, value } : { type: input.scope.type } };
  };

  app.get(
    base,
    route(calendarScopes.aclRead, (call, c) => {
      const calendar = calendarOf(call, c);
      const scopeKey = `acl:${calendar.id}`;
      const syncToken = call.url.searchParams.get('syncToken') || undefined;
      const since = syncToken ? decodeSyncToken(scopeKey, syncToken, call.state.revision) : undefined;
      const showDeleted = (boolParam(call.url, 'showDeleted') ?? false) || since !== undefined;
      const maxResults = intParam(call.url, 'maxResults', { min: 1, max: 250, clampMax: true }) ?? 100;
      const rules = [...calendar.acl.values()].filter(
        (r) => (showDeleted || !r.deleted) && (since === undefined || r.revision > since),
      );
      const offset = decodePageToken(scopeKey, call.url.searchParams.get('pageToken') ?? undefined);
      const out: Record<string, unknown> = { kind: 'calendar#acl', etag: etagOf(call.now, call.state.revision) };
      if (offset + maxResults < rules.length) out.nextPageToken = encodePageToken(scopeKey, offset + maxResults);
      else out.nextSyncToken = encodeSyncToken(scopeKey, call.state.revision);
      out.items = rules.slice(offset, offset + maxResults).map(renderRule);
      return c.json(out);
    }),
  );

  app.post(
    base,
    route(calendarScopes.aclWrite, async (call, c) => {
      const calendar = calendarOf(call, c);
      boolParam(call.url, 'sendNotifications');
      const { role, scope } = validated(parseBody(ruleInput, await readJson(c)));
      const id = ruleId(scope);
      const existing = calendar.acl.get(id);
      if (existing && !existing.deleted) guardOwnRule(call.state, existing, role);
      // Inserting a rule for a scope that already has one replaces its role, as Google does.
      const rule: AclRecord = { id, scope, role, revision: nextRevision(call.state), updated: call.now };
      calendar.acl.set(id, rule);
      return c.json(renderRule(rule));
    }),
  );

  app.get(
    `${base}/:ruleId`,
    route(calendarScopes.aclRead, (call, c) => c.json(renderRule(findRule(calendarOf(call, c).acl, c)))),
  );

  const write = (patch: boolean) =>
    route(calendarScopes.aclWrite, async (call, c) => {
      const calendar = calendarOf(call, c);
      const rule = findRule(calendar.acl, c);
      const body = await readJson(c);
      const input = parseBody(ruleInput, patch ? mergePatch(renderRule(rule), body) : body);
      const role = input.role;
      if (!role) throw missing('Missing role.');
      if (input.scope && ruleId(validated(input).scope) !== rule.id)
        throw badRequest('The scope of a rule cannot change.');
      guardOwnRule(call.state, rule, role);
      Object.assign(rule, { role, revision: nextRevision(call.state), updated: call.now });
      return c.json(renderRule(rule));
    });
  app.put(`${base}/:ruleId`, write(false));
  app.patch(`${base}/:ruleId`, write(true));

  app.delete(
    `${base}/:ruleId`,
    route(calendarScopes.aclWrite, (call, c) => {
      const calendar = calendarOf(call, c);
      const rule = findRule(calendar.acl, c);
      guardOwnRule(call.state, rule);
      Object.assign(rule, { deleted: true, role: 'none', revision: nextRevision(call.state), updated: call.now });
      return noContent();
    }),
  );
}
