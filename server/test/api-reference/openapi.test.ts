import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

type Json = Record<string, unknown>;

/** Walks loose JSON by keys (and array indexes); undefined once a step is missing. */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) current = (current as Record<string | number, unknown> | undefined)?.[key];
  return current;
}

/** Hono's `:id` in OpenAPI's `{id}`; a `:` inside a segment (`/connected_accounts:search`) is literal. */
const normalise = (path: string) => path.replace(/\/:([A-Za-z_]\w*)/g, '/{$1}');

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../../test-artifacts/api-reference');

describe('the API reference at /openapi.json and /docs', () => {
  let stack: Stack;
  let spec: Json;
  /** "METHOD path" → the operation, with the Hono pattern it is served by. */
  const served = new Set<string>();

  beforeAll(async () => {
    stack = await startStack({ listen: existsSync(CHROMIUM) });
    const res = await stack.fetch(`${stack.url}/openapi.json`);
    expect(res.status).toBe(200);
    spec = (await res.json()) as Json;
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** The Hono route each documented operation names (x-route is not in the spec: match by path shape). */
  function documented(method: string, honoPath: string): boolean {
    const path = normalise(honoPath);
    const ops = spec.paths as Record<string, Json>;
    if (at(ops, path, method.toLowerCase())) return true;
    // `/clients/{action}` serves `/clients/{id}:revoke` and its siblings.
    const prefix = path.replace(/\{[^}]+\}$/, '');
    return Object.entries(ops).some(
      ([p, m]) => m[method.toLowerCase()] && p.startsWith(prefix) && /^\{id\}:[a-z_]+$/.test(p.slice(prefix.length)),
    );
  }

  it('is OpenAPI 3.1 with the management bearer token and the client credentials flow', () => {
    expect(spec.openapi).toBe('3.1.0');
    const schemes = at(spec, 'components', 'securitySchemes');
    expect(at(schemes, 'managementToken')).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(at(schemes, 'clientCredentials', 'flows', 'clientCredentials', 'tokenUrl')).toBe(`${stack.url}/oauth/token`);
    expect(at(spec, 'components', 'schemas', 'Error', 'properties', 'error', 'properties', 'code', 'enum')).toContain(
      'validation_failed',
    );
  });

  it('is a valid OpenAPI 3.1 document: no error under Redocly’s recommended rules', async () => {
    const text = await (await stack.fetch(`${stack.url}/openapi.json`)).text();
    const problems = await lintFromString({
      source: text,
      absoluteRef: `${stack.url}/openapi.json`,
      config: await createConfig({ extends: ['recommended'] }),
    });
    const errors = problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  });

  it('lists every route the app registers under /api/v1', () => {
    const missing: string[] = [];
    for (const route of stack.app.routes) {
      if (!route.path.startsWith('/api/v1/') || route.method === 'ALL') continue; // ALL: middleware
      served.add(`${route.method} ${route.path}`);
      if (!documented(route.method, route.path)) missing.push(`${route.method} ${route.path}`);
    }
    expect(served.size).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });

  it('lists no route the app does not serve, and covers the pages, the MCP endpoints and the well-known documents', () => {
    const patterns = stack.app.routes.map((r) => ({ method: r.method, re: pattern(r.path) }));
    for (const [path, methods] of Object.entries(spec.paths as Record<string, Json>)) {
      for (const method of Object.keys(methods)) {
        const concrete = path.replace(/\{[^}]+\}/g, 'x1');
        const hit = patterns.some(
          (p) => (p.method === method.toUpperCase() || p.method === 'ALL') && p.re.test(concrete) && !isMiddleware(p),
        );
        expect(hit, `${method.toUpperCase()} ${path}`).toBe(true);
      }
    }
    for (const path of [
      '/oauth/token',
      '/connect/{token}',
      '/oauth/callback',
      '/mcp/c/{configId}',
      '/mcp/i/{secret}',
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-protected-resource/mcp/c/{configId}',
      '/.well-known/jwks.json',
      '/mcp-oauth/authorize',
    ]) {
      expect(at(spec, 'paths', path), path).toBeDefined();
    }
    expect((at(spec, 'paths', '/connect/{token}', 'get', 'parameters') as Json[]).map((p) => p.name)).toEqual([
      'token',
      'login_hint',
    ]);
  });

  it('shows in the dashboard only routes the reference lists (it once showed POST /api/v1/mcp/instances:ensure)', () => {
    const folder = join(import.meta.dirname, '../../src/dashboard');
    const shown = readdirSync(folder)
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) => [
        ...readFileSync(join(folder, file), 'utf8').matchAll(/(GET|POST|PUT|PATCH|DELETE) (\/api\/v1\/[\w/:{}.-]+)/g),
      ]);
    expect(shown.length).toBeGreaterThan(0);
    for (const [, method = '', path = ''] of shown) {
      expect(at(spec, 'paths', path, method.toLowerCase()), `${method} ${path}`).toBeDefined();
    }
  });

  it('takes real request bodies by the same JSON schema the zod schema is turned into, and refuses what zod refuses', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const bodyOf = (path: string, method: string) =>
      at(spec, 'paths', path, method, 'requestBody', 'content', 'application/json', 'schema') as Json;
    const samples: [string, string, string, unknown][] = [
      ['post', '/api/v1/connections', '/api/v1/connections', { name: 'MY_GMAIL', provider: 'gmail' }],
      [
        'post',
        '/api/v1/mcp/configs',
        '/api/v1/mcp/configs',
        { name: 'mail-helper', connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: [] }] },
      ],
      [
        'post',
        '/api/v1/mcp/instances',
        '/api/v1/mcp/instances',
        { config_name: 'mail-helper', user_identifier: 'john-doe' },
      ],
      [
        'post',
        '/api/v1/connected_accounts/magic_link',
        '/api/v1/connected_accounts/magic_link',
        { connector: 'MY_GMAIL', identifier: 'john-doe', user_verify_url: 'https://app.example/verify' },
      ],
    ];
    for (const [method, path, url, body] of samples) {
      const validate = ajv.compile(bodyOf(path, method));
      expect(validate(body), `${path}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      const res = await stack.api(method.toUpperCase(), url, body);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    }
    // The same refusals on both sides: an unknown field (strict objects), and a field of the wrong type.
    for (const bad of [
      { name: 'MY_CAL', provider: 'googlecalendar', colour: 'red' },
      { name: 7, provider: 'gmail' },
    ]) {
      expect(ajv.validate(bodyOf('/api/v1/connections', 'post'), bad)).toBe(false);
      expect((await stack.api('POST', '/api/v1/connections', bad)).status).toBe(400);
    }
  });

  it('describes real error answers: each one matches the Error schema and a code the route lists for its status', async () => {
    const ajv = new Ajv2020({ strict: false });
    const errorSchema = at(spec, 'components', 'schemas', 'Error') as Json;
    const token = await stack.token();
    const answers: [string, string, string, RequestInit][] = [
      ['get', '/api/v1/connections/{id}', '/api/v1/connections/con_missing', {}],
      ['get', '/api/v1/connected_accounts/{id}', '/api/v1/connected_accounts/ca_missing', {}],
      [
        'post',
        '/api/v1/mcp/configs',
        '/api/v1/mcp/configs',
        { method: 'POST', body: '{"name":"Not A Name"}', headers: { 'content-type': 'application/json' } },
      ],
      ['get', '/api/v1/mcp/configs', '/api/v1/mcp/configs?page_size=0', {}],
    ];
    for (const [method, path, url, init] of answers) {
      const res = await stack.fetch(`${stack.url}${url}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as Json;
      expect(ajv.validate(errorSchema, body), `${url}: ${JSON.stringify(body)}`).toBe(true);
      const listed = at(spec, 'paths', path, method, 'responses', String(res.status));
      expect(listed, `${url} answered ${res.status}, which the reference does not list`).toBeDefined();
      expect(
        at(
          listed,
          'content',
          'application/json',
          'schema',
          'allOf',
          1,
          'properties',
          'error',
          'properties',
          'code',
          'enum',
        ),
      ).toContain(at(body, 'error', 'code'));
    }
    const anonymous = await stack.fetch(`${stack.url}/api/v1/connections`);
    expect(anonymous.status).toBe(401);
    expect(at(spec, 'paths', '/api/v1/connections', 'get', 'responses', '401', 'description')).toContain(
      'unauthenticated',
    );
  });

  it('describes the pages’ and the MCP sign-in’s fields by the schemas their handlers check: what the reference refuses, the handler refuses', async () => {
    const ajv = new Ajv2020({ strict: false });
    const param = (path: string, name: string) =>
      ((at(spec, 'paths', path, 'get', 'parameters') as Json[]).find((p) => p.name === name) as Json).schema as Json;
    const form = (path: string) =>
      at(spec, 'paths', path, 'post', 'requestBody', 'content', 'application/x-www-form-urlencoded', 'schema') as Json;

    // A login hint longer than an email address: refused by the schema, answered with the 400 page.
    const hint = 'a'.repeat(321);
    expect(ajv.validate(param('/connect/{token}', 'login_hint'), hint)).toBe(false);
    expect(ajv.validate(param('/connect/{token}', 'login_hint'), 'john.doe@example.com')).toBe(true);
    const page = await stack.fetch(`${stack.url}/connect/not-a-link?login_hint=${hint}`);
    expect(page.status).toBe(400);
    expect(page.headers.get('content-type')).toContain('text/html');
    // The callback's state given twice is not one string.
    const twice = await stack.fetch(`${stack.url}/oauth/callback?state=a&state=b&code=c`);
    expect(twice.status).toBe(400);

    // A PKCE challenge that is not 43–128 unreserved characters: told to the client at its redirect URI.
    const challenge = param('/mcp-oauth/authorize', 'code_challenge');
    expect(ajv.validate(challenge, 'too-short')).toBe(false);
    expect(ajv.validate(challenge, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true);
    const registered = await stack.fetch(`${stack.url}/mcp-oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    const { client_id: clientId } = (await registered.json()) as { client_id: string };
    const authorize = new URL(`${stack.url}/mcp-oauth/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:9/cb',
      code_challenge: 'too-short',
      code_challenge_method: 'S256',
    }).toString();
    const refused = new URL((await stack.fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? '');
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('error_description')).toBe('code_challenge is malformed');

    // A grant type the token endpoint's schema does not list.
    expect(ajv.validate(form('/mcp-oauth/token'), { grant_type: 'password' })).toBe(false);
    const token = await stack.fetch(`${stack.url}/mcp-oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: clientId }),
    });
    expect(((await token.json()) as Json).error).toBe('unsupported_grant_type');
    // The consent form's decision is allow or deny, nothing else, and it carries the consent URL's secret.
    const decision = { consent_secret: 'y', csrf: 'x' };
    expect(ajv.validate(form('/mcp-oauth/consent/{id}'), { ...decision, decision: 'maybe' })).toBe(false);
    expect(ajv.validate(form('/mcp-oauth/consent/{id}'), { ...decision, decision: 'allow' })).toBe(true);
    expect(ajv.validate(form('/mcp-oauth/consent/{id}'), { csrf: 'x', decision: 'allow' })).toBe(false);
  });

  it.skipIf(!existsSync(CHROMIUM))('renders /docs/plain in Chromium under the strict CSP, with no script', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const res = await stack.fetch(`${stack.url}/docs/plain`);
    expect(res.headers.get('content-security-policy')).toContain("style-src 'self'");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`${stack.url}/docs/plain`);
      await page.screenshot({ path: join(ARTIFACTS, 'docs-top.png') });
      await page.locator('#post_api_v1_connections').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, 'docs-create-connection.png') });
      // The answer's fields, and the shared shape it names, linked under Schemas.
      await page.locator('#post_api_v1_execute_tool').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, 'docs-execute-tool.png') });
      await page.locator('#post_api_v1_connections a[href="#schema-Connection"]').first().click();
      await page.screenshot({ path: join(ARTIFACTS, 'docs-schema-connection.png') });
      await page.locator('#schema-Error').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, 'docs-schema-error.png') });
      await expect(page.locator('#schema-Connection').textContent()).resolves.toContain('oauth_client_secret_set');
      // The stylesheet applied: the nav is a sidebar beside the content.
      const nav = await page.locator('nav').boundingBox();
      expect(nav?.width).toBeGreaterThan(250);
      expect(nav?.width).toBeLessThan(400);
      await expect(page.locator('#post_api_v1_connections code').first().textContent()).resolves.toBe(
        '/api/v1/connections',
      );
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it.skipIf(!existsSync(CHROMIUM))(
    'renders /docs with Swagger UI from its npm package: every operation, from this origin only, no CSP violation',
    async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const res = await stack.fetch(`${stack.url}/docs`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("style-src 'self';");
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        const elsewhere: string[] = [];
        page.on('console', (m) => {
          // A failed load is reported below with its URL.
          if (/Failed to load resource/.test(m.text())) return;
          if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
        });
        page.on('response', (r) => {
          // Chromium asks for /favicon.ico on its own; the reference has none.
          if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico')
            problems.push(`${r.status()} ${r.url()}`);
        });
        page.on('pageerror', (error) => problems.push(String(error)));
        page.on('request', (r) => {
          if (new URL(r.url()).origin !== stack.url && !r.url().startsWith('data:')) elsewhere.push(r.url());
        });
        await page.goto(`${stack.url}/docs`);
        await page.locator('.opblock').first().waitFor();
        const operations = Object.values(spec.paths as Record<string, Json>).reduce(
          (n, methods) => n + Object.keys(methods).length,
          0,
        );
        await expect(page.locator('.opblock').count()).resolves.toBe(operations);
        await page.screenshot({ path: join(ARTIFACTS, 'swagger-top.png') });
        // One operation opened: its parameters and its answer's schema, from the spec.
        const execute = page.locator('.opblock', { hasText: '/api/v1/execute_tool' }).first();
        await execute.locator('.opblock-summary').click();
        await execute.locator('.responses-wrapper').waitFor();
        await execute.scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(ARTIFACTS, 'swagger-execute-tool.png'), fullPage: false });
        await expect(execute.textContent()).resolves.toContain('execution_id');
        expect(problems).toEqual([]);
        expect(elsewhere).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});

function pattern(path: string): RegExp {
  const source = path
    .split(/(\/:[A-Za-z_]\w*|\*)/)
    .map((part) =>
      part === '*' ? '.*' : part.startsWith('/:') ? '/[^/]+' : part.replace(/[.?+^$|()[\]{}\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

function isMiddleware(route: { method: string; re: RegExp }): boolean {
  // app.use('*') and friends match everything; only a route with a handler of its own counts.
  return route.method === 'ALL' && route.re.test('/no-such-route-x1-y2');
}
