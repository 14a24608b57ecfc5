import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The only files served from swagger-ui-dist: a closed list, so no request names a path. */
const ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

const loaded = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

/** A file of the installed swagger-ui-dist, read on first use and kept (about 1.5 MB in all). */
export async function swaggerUiAsset(
  name: string,
): Promise<{ body: Uint8Array<ArrayBuffer>; contentType: string } | undefined> {
  const contentType = ASSETS[name];
  if (!contentType) return undefined;
  let body = loaded.get(name);
  if (!body) {
    const folder = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    body = readFile(join(folder, name)).then((bytes) => new Uint8Array(bytes));
    // A failed read is not remembered: the next request tries again.
    body.catch(() => loaded.delete(name));
    loaded.set(name, body);
  }
  return { body: await body, contentType };
}

/** The page: the bundle, its stylesheet and the start script, all from this origin; nothing inline. */
export function swaggerUiPage(title: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[&<>"']/g, '')}</title><link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css"></head>
<body><div id="reference"></div><noscript><p>This page needs JavaScript; <a href="/docs/plain">/docs/plain</a> is the same reference without it.</p></noscript>
<script src="/docs/swagger-ui/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>`;
}

/**
 * Starts Swagger UI on /openapi.json. validatorUrl null: its default sends the spec's URL to
 * validator.swagger.io for a badge image.
 */
export const SWAGGER_UI_INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#reference',
    deepLinking: true,
    validatorUrl: null,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
  });
});
`;
