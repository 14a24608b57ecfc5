import { Hono } from 'hono';
import type { AppEnv } from '../context.js';
import type { RouteDoc } from '../http/route-docs.js';
import { REFERENCE_STYLES, referencePage } from './page.js';
import { openApiDocument } from './spec.js';
import { SWAGGER_UI_INIT, swaggerUiAsset, swaggerUiPage } from './swagger-ui.js';

/**
 * The dashboard's policy: scripts and styles only from here, no inline script, no eval.
 * Swagger UI sets element styles through the DOM (allowed), and its images are data: URLs.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/**
 * /openapi.json, built once from the routes' own docs, and two renderings of it: /docs, Swagger
 * UI (swagger-ui-dist, served from its npm package, never a CDN), and /docs/plain, a
 * server-rendered page with no script at all. The document is built at its first request, not
 * at start: turning every route's zod schemas into JSON Schema was about a tenth of a start.
 * Not Scalar: @scalar/api-reference, the package that holds the bundle its Hono integration
 * loads, installs 284 packages (311 MB) for a 4.7 MB browser file, and fetches its fonts from
 * fonts.scalar.com unless told not to.
 */
export function apiReference(docs: readonly RouteDoc[], info: { publicUrl: string; version: string }): Hono<AppEnv> {
  let built: { json: string; plain: string } | undefined;
  const reference = () => {
    if (!built) {
      const spec = openApiDocument(docs, info);
      built = { json: JSON.stringify(spec), plain: referencePage(spec) };
    }
    return built;
  };
  const app = new Hono<AppEnv>();
  app.get('/openapi.json', (c) =>
    c.body(reference().json, 200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }),
  );
  app.get('/docs', (c) => c.body(swaggerUiPage(`Switchboard ${info.version} API reference`), 200, PAGE_HEADERS));
  app.get('/docs/plain', (c) => c.body(reference().plain, 200, PAGE_HEADERS));
  app.get('/docs/styles.css', (c) =>
    c.body(REFERENCE_STYLES, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }),
  );
  app.get('/docs/init.js', (c) =>
    c.body(SWAGGER_UI_INIT, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'max-age=300',
    }),
  );
  app.get('/docs/swagger-ui/:file', async (c) => {
    const asset = await swaggerUiAsset(c.req.param('file'));
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, {
      'content-type': asset.contentType,
      'cache-control': 'max-age=86400',
      'x-content-type-options': 'nosniff',
    });
  });
  return app;
}
