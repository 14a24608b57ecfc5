import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { SandboxContext } from '../context.js';
import {
  boolParam,
  type CalendarCall,
  enumParam,
  intParam,
  noContent,
  readJson,
  roleAtLeast,
  routeFactory,
} from './call.js';
import { badRequest, missing, notFound } from './errors.js';
import { mergePatch, parseBody } from './event-input.js';
import { etagOf } from './ids.js';
import { calendarColors, nearestCalendarColorId } from './palette.js';
import { calendarScopes } from './scopes.js';
import { newListEntry } from './seed.js';
import { type CalendarListRecord, type CalendarState, nextRevision, type Reminder } from './state.js';
import { decodePageToken, decodeSyncToken, encodePageToken, encodeSyncToken } from './tokens.js';

/** users/me/calendarList: the user's own view of each calendar (color, visibility, default reminders). */
const reminder = z.object({ method: z.enum(['email', 'popup']), minutes: z.number().int() });
const listEntryInput = z.object({
  id: z.string().nullish(),
  summaryOverride: z.string().nullish(),
  colorId: z.string().nullish(),
  backgroundColor: z.string().nullish(),
  foregroundColor: z.string().nullish(),
  hidden: z.boolean().nullish(),
  selected: z.boolean().nullish(),
  defaultReminders: z.array(reminder).nullish(),
  notificationSettings: z
    .object({ notifications: z.array(z.object({ type: z.string(), method: z.string() })).nullish() })
    .nullish(),
});
type ListEntryInput = z.infer<typeof listEntryInput>;

const ROLES = ['freeBusyReader', 'reader', 'writer', 'owner'] as const;
const HEX = /^#[0-9a-fA-F]{6}$/;

function renderEntry(state: CalendarState, entry: CalendarListRecord): Record<string, unknown> {
  const calendar = state.calendars.get(entry.id);
  const out: Record<string, unknown> = {
    kind: 'calendar#calendarListEntry',
    etag: etagOf(entry.updated, entry.revision),
    id: entry.id,
  };
  if (calendar) {
    out.summary = calendar.summary;
    if (calendar.description) out.description = calendar.description;
    if (calendar.location) out.location = calendar.location;
    out.timeZone = calendar.timeZone;
  }
  if (entry.summaryOverride) out.summaryOverride = entry.summaryOverride;
  out.colorId = entry.colorId;
  out.backgroundColor = entry.backgroundColor;
  out.foregroundColor = entry.foregroundColor;
  if (entry.hidden) out.hidden = true;
  if (entry.selected) out.selected = true;
  out.accessRole = calendar?.accessRole ?? 'reader';
  out.defaultReminders = entry.defaultReminders.map((r) => ({ ...r }));
  if (entry.notificationSettings) out.notificationSettings = structuredClone(entry.notificationSettings);
  if (calendar?.primary) out.primary = true;
  if (entry.deleted) out.deleted = true;
  out.conferenceProperties = { allowedConferenceSolutionTypes: ['hangoutsMeet'] };
  return out;
}

function toReminders(value: ListEntryInput['defaultReminders']): Reminder[] {
  const reminders = value ?? [];
  if (reminders.length > 5) throw badRequest('The maximum number of default reminders is 5.');
  for (const r of reminders) {
    if (r.minutes < 0 || r.minutes > 40_320) throw badRequest('Invalid reminder minutes value.');
  }
  return reminders.map((r) => ({ ...r }));
}

/** Applies a full entry body (insert/update; patch merges first). */
function applyEntry(call: CalendarCall, entry: CalendarListRecord, input: ListEntryInput): void {
  const rgb = boolParam(call.url, 'colorRgbFormat') ?? false;
  if (input.colorId) {
    const pair = calendarColors[input.colorId];
    if (!pair) throw badRequest('Invalid color id value.');
    entry.colorId = input.colorId;
    entry.backgroundColor = pair.background;
    entry.foregroundColor = '#000000';
  }
  if (input.backgroundColor || input.foregroundColor) {
    if (!rgb) throw badRequest('Set colorRgbFormat=true to write backgroundColor and foregroundColor.');
    if (!input.backgroundColor || !input.foregroundColor) {
      throw missing('Both backgroundColor and foregroundColor are required with colorRgbFormat.');
    }
    if (!HEX.test(input.backgroundColor) || !HEX.test(input.foregroundColor)) throw badRequest('Invalid color value.');
    entry.backgroundColor = input.backgroundColor.toLowerCase();
    entry.foregroundColor = input.foregroundColor.toLowerCase();
    entry.colorId = nearestCalendarColorId(entry.backgroundColor);
  }
  entry.summaryOverride = input.summaryOverride ?? undefined;
  entry.hidden = input.hidden ?? false;
  entry.selected = input.selected ?? !entry.hidden;
  entry.defaultReminders = toReminders(input.defaultReminders);
  const notifications = input.notificationSettings?.notifications;
  entry.notificationSettings = notifications ? { notifications: notifications.map((n) => ({ ...n })) } : undefined;
  entry.deleted = undefined;
  entry.updated = call.now;
  entry.revision = nextRevision(call.state);
}

function findEntry(state: CalendarState, calendarId: string): CalendarListRecord {
  const id = calendarId === 'primary' ? state.user.email : calendarId;
  const entry = state.calendarList.get(id);
  if (!entry || entry.deleted) throw notFound();
  return entry;
}

export function registerCalendarListRoutes(app: Hono, ctx: SandboxContext): void {
  const route = routeFactory(ctx);
  const base = '/users/me/calendarList';
  const param = (c: Context) => c.req.param('calendarId') ?? '';

  app.get(
    base,
    route(calendarScopes.calendarListRead, (call, c) => {
      const { url, state } = call;
      const maxResults = intParam(url, 'maxResults', { min: 1, max: 250, clampMax: true }) ?? 100;
      const minAccessRole = enumParam(url, 'minAccessRole', ROLES);
      const syncToken = url.searchParams.get('syncToken') || undefined;
      if (syncToken && minAccessRole) throw badRequest('The syncToken cannot be combined with minAccessRole.');
      const since = syncToken ? decodeSyncToken('calendarList', syncToken, state.revision) : undefined;
      // Incremental sync reports hidden and deleted entries too, so clients can drop them.
      const showDeleted = (boolParam(url, 'showDeleted') ?? false) || since !== undefined;
      const showHidden = (boolParam(url, 'showHidden') ?? false) || since !== undefined;
      const entries = [...state.calendarList.values()].filter((entry) => {
        if (entry.deleted && !showDeleted) return false;
        if (entry.hidden && !showHidden) return false;
        if (since !== undefined && entry.revision <= since) return false;
        const role = state.calendars.get(entry.id)?.accessRole ?? 'reader';
        return !minAccessRole || roleAtLeast(role, minAccessRole);
      });
      const offset = decodePageToken('calendarList', url.searchParams.get('pageToken') ?? undefined);
      const out: Record<string, unknown> = {
        kind: 'calendar#calendarList',
        etag: etagOf(call.now, state.revision),
      };
      if (offset + maxResults < entries.length)
        out.nextPageToken = encodePageToken('calendarList', offset + maxResults);
      else out.nextSyncToken = encodeSyncToken('calendarList', state.revision);
      out.items = entries.slice(offset, offset + maxResults).map((entry) => renderEntry(state, entry));
      return c.json(out);
    }),
  );

  app.post(
    base,
    route(calendarScopes.calendarListInsert, async (call, c) => {
      const input = parseBody(listEntryInput, await readJson(c));
      if (!input.id) throw missing('Missing calendar id.');
      const calendar = call.state.calendars.get(input.id === 'primary' ? call.state.user.email : input.id);
      if (!calendar) throw notFound();
      const entry =
        call.state.calendarList.get(calendar.id) ?? newListEntry(calendar.id, '1', [], call.now, call.state.revision);
      applyEntry(call, entry, { ...input, selected: input.selected ?? true });
      call.state.calendarList.set(calendar.id, entry);
      return c.json(renderEntry(call.state, entry));
    }),
  );

  app.get(
    `${base}/:calendarId`,
    route(calendarScopes.calendarListRead, (call, c) =>
      c.json(renderEntry(call.state, findEntry(call.state, param(c)))),
    ),
  );

  app.put(
    `${base}/:calendarId`,
    route(calendarScopes.calendarListWrite, async (call, c) => {
      const entry = findEntry(call.state, param(c));
      applyEntry(call, entry, parseBody(listEntryInput, await readJson(c)));
      return c.json(renderEntry(call.state, entry));
    }),
  );

  app.patch(
    `${base}/:calendarId`,
    route(calendarScopes.calendarListWrite, async (call, c) => {
      const entry = findEntry(call.state, param(c));
      const body = await readJson(c);
      const current = renderEntry(call.state, entry);
      const patch = typeof body === 'object' && body !== null ? { ...body } : {};
      // Writing RGB colors must not be undone by the stored colorId re-applying its palette color.
      if ('backgroundColor' in patch || 'foregroundColor' in patch) delete current.colorId;
      else {
        delete current.backgroundColor;
        delete current.foregroundColor;
      }
      applyEntry(call, entry, parseBody(listEntryInput, mergePatch(current, patch)));
      return c.json(renderEntry(call.state, entry));
    }),
  );

  app.delete(
    `${base}/:calendarId`,
    route(calendarScopes.calendarListWrite, (call, c) => {
      const entry = findEntry(call.state, param(c));
      if (call.state.calendars.get(entry.id)?.primary) {
        throw badRequest('The primary calendar cannot be removed from the calendar list.', 'badRequest');
      }
      Object.assign(entry, { deleted: true, updated: call.now, revision: nextRevision(call.state) });
      return noContent();
    }),
  );
}
