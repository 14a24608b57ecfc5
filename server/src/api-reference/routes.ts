import { Hono } from 'hono';
import type { AppEnv } from '../context.js';
import type { RouteDoc } from '../http/route-docs.js';
import { REFERENCE_STYLES, referencePage } from './page.js';
import { openApiDocument } from './spec.js';

/** The dashboard's policy: no inline script or style, the one stylesheet from here. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * /openapi.json and /docs, built once from the routes' own docs. A server-rendered page rather
 * than Scalar: its bundle is not installed, and its standalone build injects inline styles and
 * fetches fonts from a CDN, which the strict CSP (and an offline machine) refuses.
 */
export function apiReference(docs: readonly RouteDoc[], info: { publicUrl: string; version: string }): Hono<AppEnv> {
  const spec = openApiDocument(docs, info);
  const json = JSON.stringify(spec);
  const page = referencePage(spec);
  const app = new Hono<AppEnv>();
  app.get('/openapi.json', (c) =>
    c.body(json, 200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }),
  );
  app.get('/docs', (c) =>
    c.body(page, 200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
    }),
  );
  app.get('/docs/styles.css', (c) =>
    c.body(REFERENCE_STYLES, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }),
  );
  return app;
}
