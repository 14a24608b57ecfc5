import { Hono } from 'hono';
import type { SandboxContext } from '../context.js';
import { registerAclRoutes } from './acl.js';
import { registerCalendarListRoutes } from './calendar-list.js';
import { registerCalendarRoutes } from './calendars.js';
import { registerColorRoutes } from './colors.js';
import { CalendarApiError } from './errors.js';
import { registerEventRoutes } from './events.js';
import { registerFreeBusyRoutes } from './freebusy.js';
import { registerSettingsRoutes } from './settings.js';

/**
 * The Google Calendar v3 REST emulator, to be mounted at `/calendar/v3` of the sandbox app.
 * Paths, parameters, JSON shapes and errors follow
 * https://developers.google.com/workspace/calendar/api/v3/reference closely enough for
 * `@googleapis/calendar` to run against it. Each user's data comes from `ctx.userData('calendar', …)`.
 */
export function createCalendarApi(ctx: SandboxContext): Hono {
  const app = new Hono();
  registerCalendarRoutes(app, ctx);
  registerCalendarListRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerAclRoutes(app, ctx);
  registerSettingsRoutes(app, ctx);
  registerColorRoutes(app, ctx);
  registerFreeBusyRoutes(app, ctx);
  app.notFound(() => new CalendarApiError(404, 'notFound', 'Not Found').toResponse());
  app.onError((error) => {
    if (error instanceof CalendarApiError) return error.toResponse();
    return new CalendarApiError(500, 'backendError', 'Backend Error').toResponse();
  });
  return app;
}

export { SEED_TIME_ZONE } from './seed.js';
