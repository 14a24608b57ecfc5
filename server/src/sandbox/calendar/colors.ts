import type { Hono } from 'hono';
import type { SandboxContext } from '../context.js';
import { routeFactory } from './call.js';
import { calendarColors, eventColors } from './palette.js';
import { calendarScopes } from './scopes.js';

/** colors.get: the fixed palettes; `updated` is the date Google last changed them. */
export function registerColorRoutes(app: Hono, ctx: SandboxContext): void {
  const route = routeFactory(ctx);
  app.get(
    '/colors',
    route(calendarScopes.colors, (_call, c) =>
      c.json({
        kind: 'calendar#colors',
        updated: '2012-02-14T00:00:00.000Z',
        calendar: calendarColors,
        event: eventColors,
      }),
    ),
  );
}
