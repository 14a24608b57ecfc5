import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { SandboxContext } from '../context.js';
import { findCalendar, noContent, readJson, requireAccess, routeFactory } from './call.js';
import { badRequest, missing } from './errors.js';
import { mergePatch, parseBody } from './event-input.js';
import { etagOf, newCalendarId } from './ids.js';
import { calendarScopes } from './scopes.js';
import { newCalendar, newListEntry, ownerRule } from './seed.js';
import { type CalendarRecord, type CalendarState, nextRevision } from './state.js';
import { isValidTimeZone } from './time.js';

/** Calendars: metadata shared by everyone who sees the calendar (per-user bits live in calendarList). */
const calendarInput = z.object({
  summary: z.string().nullish(),
  description: z.string().nullish(),
  location: z.string().nullish(),
  timeZone: z.string().nullish(),
});

export function renderCalendar(calendar: CalendarRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    kind: 'calendar#calendar',
    etag: etagOf(calendar.updated, calendar.revision),
    id: calendar.id,
    summary: calendar.summary,
  };
  if (calendar.description) out.description = calendar.description;
  if (calendar.location) out.location = calendar.location;
  out.timeZone = calendar.timeZone;
  out.conferenceProperties = { allowedConferenceSolutionTypes: ['hangoutsMeet'] };
  return out;
}

function applyCalendarInput(
  state: CalendarState,
  calendar: CalendarRecord,
  input: z.infer<typeof calendarInput>,
  now: number,
) {
  if (!input.summary) throw missing('Missing title.');
  if (input.timeZone && !isValidTimeZone(input.timeZone)) throw badRequest('Invalid time zone.');
  calendar.summary = input.summary;
  calendar.description = input.description ?? undefined;
  calendar.location = input.location ?? undefined;
  if (input.timeZone) calendar.timeZone = input.timeZone;
  if (calendar.primary) state.settings.set('timezone', calendar.timeZone);
  calendar.updated = now;
  calendar.revision = nextRevision(state);
}

export function registerCalendarRoutes(app: Hono, ctx: SandboxContext): void {
  const route = routeFactory(ctx);
  const param = (c: Context) => c.req.param('calendarId') ?? '';

  app.post(
    '/calendars',
    route(calendarScopes.calendarsWrite, async (call, c) => {
      const input = parseBody(calendarInput, await readJson(c));
      const revision = nextRevision(call.state);
      const calendar = newCalendar(
        {
          id: newCalendarId(),
          summary: input.summary ?? '',
          timeZone: call.state.settings.get('timezone') ?? 'UTC',
          accessRole: 'owner',
        },
        call.now,
        revision,
      );
      applyCalendarInput(call.state, calendar, input, call.now);
      calendar.acl.set(`user:${call.state.user.email}`, ownerRule(call.state.user.email, call.now, revision));
      call.state.calendars.set(calendar.id, calendar);
      const colorIds = ['9', '16', '22', '6', '13', '24'];
      const colorId = colorIds[call.state.calendars.size % colorIds.length] ?? '9';
      call.state.calendarList.set(calendar.id, newListEntry(calendar.id, colorId, [], call.now, revision));
      return c.json(renderCalendar(calendar));
    }),
  );

  app.get(
    '/calendars/:calendarId',
    route(calendarScopes.calendarsRead, (call, c) => c.json(renderCalendar(findCalendar(call.state, param(c))))),
  );

  app.put(
    '/calendars/:calendarId',
    route(calendarScopes.calendarsWrite, async (call, c) => {
      const calendar = findCalendar(call.state, param(c));
      requireAccess(calendar, 'owner');
      applyCalendarInput(call.state, calendar, parseBody(calendarInput, await readJson(c)), call.now);
      return c.json(renderCalendar(calendar));
    }),
  );

  app.patch(
    '/calendars/:calendarId',
    route(calendarScopes.calendarsWrite, async (call, c) => {
      const calendar = findCalendar(call.state, param(c));
      requireAccess(calendar, 'owner');
      const merged = mergePatch(renderCalendar(calendar), await readJson(c));
      applyCalendarInput(call.state, calendar, parseBody(calendarInput, merged), call.now);
      return c.json(renderCalendar(calendar));
    }),
  );

  app.delete(
    '/calendars/:calendarId',
    route(calendarScopes.calendarsWrite, (call, c) => {
      const calendar = findCalendar(call.state, param(c));
      if (calendar.primary) {
        throw badRequest(
          'The primary calendar cannot be deleted; use calendars.clear to remove its events.',
          'badRequest',
        );
      }
      requireAccess(calendar, 'owner');
      call.state.calendars.delete(calendar.id);
      const entry = call.state.calendarList.get(calendar.id);
      if (entry) Object.assign(entry, { deleted: true, updated: call.now, revision: nextRevision(call.state) });
      return noContent();
    }),
  );

  app.post(
    '/calendars/:calendarId/clear',
    route(calendarScopes.calendarsClear, (call, c) => {
      const calendar = findCalendar(call.state, param(c));
      requireAccess(calendar, 'owner');
      if (!calendar.primary) throw badRequest('Only the primary calendar can be cleared.', 'badRequest');
      const revision = nextRevision(call.state);
      for (const event of calendar.events.values()) {
        if (event.status !== 'cancelled') {
          calendar.events.set(event.id, { ...event, status: 'cancelled', updated: call.now, revision });
        }
      }
      return noContent();
    }),
  );
}
