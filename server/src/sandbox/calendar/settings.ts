import type { Hono } from 'hono';
import type { SandboxContext } from '../context.js';
import { intParam, routeFactory } from './call.js';
import { notFound } from './errors.js';
import { etagOf } from './ids.js';
import { calendarScopes } from './scopes.js';
import { decodePageToken, decodeSyncToken, encodePageToken, encodeSyncToken } from './tokens.js';

/** users/me/settings: read-only user preferences (timezone follows the primary calendar). */
const SETTINGS_EPOCH = Date.UTC(2024, 0, 1);

const renderSetting = (id: string, value: string) => ({
  kind: 'calendar#setting',
  etag: etagOf(SETTINGS_EPOCH, value.length),
  id,
  value,
});

export function registerSettingsRoutes(app: Hono, ctx: SandboxContext): void {
  const route = routeFactory(ctx);

  app.get(
    '/users/me/settings',
    route(calendarScopes.settings, (call, c) => {
      const syncToken = call.url.searchParams.get('syncToken');
      // Settings never change through the API, so a valid sync token always yields nothing new.
      const since = syncToken ? decodeSyncToken('settings', syncToken, call.state.revision) : undefined;
      const maxResults = intParam(call.url, 'maxResults', { min: 1, max: 250, clampMax: true }) ?? 100;
      const all = since === undefined ? [...call.state.settings.entries()].sort(([a], [b]) => a.localeCompare(b)) : [];
      const offset = decodePageToken('settings', call.url.searchParams.get('pageToken') ?? undefined);
      const out: Record<string, unknown> = { kind: 'calendar#settings', etag: etagOf(SETTINGS_EPOCH, all.length) };
      if (offset + maxResults < all.length) out.nextPageToken = encodePageToken('settings', offset + maxResults);
      else out.nextSyncToken = encodeSyncToken('settings', call.state.revision);
      out.items = all.slice(offset, offset + maxResults).map(([id, value]) => renderSetting(id, value));
      return c.json(out);
    }),
  );

  app.get(
    '/users/me/settings/:setting',
    route(calendarScopes.settings, (call, c) => {
      const id = c.req.param('setting') ?? '';
      const value = call.state.settings.get(id);
      if (value === undefined) throw notFound();
      return c.json(renderSetting(id, value));
    }),
  );
}
