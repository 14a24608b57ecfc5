import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScopedCache } from '../../src/cache/scoped-cache.js';
import { newId } from '../../src/crypto/random.js';
import { mayBeConfigId } from '../../src/mcp-auth/config-access.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/database.js';
import { selectRecorder } from '../support/select-recorder.js';
import { type Stack, startStack } from '../support/stack.js';
import { rawPost } from './support.js';

/**
 * The config URL (/mcp/c/<id>) answers strangers before any sign-in, so what it remembers
 * about an id must not grow with the ids strangers make up: a loop of 16 KB ids once filled
 * the access cache with 10,000 entries of 16 KB each and pushed the real configs out.
 */
describe.each(ENGINES)('config URLs of unknown ids on %s', (engine) => {
  const recorder = selectRecorder();
  let stack: Stack;
  let database: TestDatabase | undefined;
  let configUrl: string;
  const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    stack = await startStack({ database: { ...database, db: database.db.withPlugin(recorder.plugin) } });
    const created = await stack.api<{ config: { mcp_server_url: string } }>('POST', '/api/v1/mcp/configs', {
      name: 'known',
    });
    configUrl = created.body.config.mcp_server_url;
  });
  // The stack closes only a database it made itself.
  afterAll(async () => {
    await stack?.close();
    await database?.close();
  });

  const accessCache = () =>
    stack.services.changes.allCaches.find((cache) => cache.name === 'mcp_config_access') as ScopedCache<
      string,
      unknown
    >;

  it('knows every id the server makes as a possible config id, and nothing longer or of another shape', () => {
    for (let i = 0; i < 1_000; i++) expect(mayBeConfigId(newId('cfg'))).toBe(true);
    for (const id of ['', 'cfg_', 'cfg_missing', `${newId('cfg')}a`, newId('cfg').toUpperCase(), newId('conn')]) {
      expect(mayBeConfigId(id), id).toBe(false);
    }
  });

  it('answers a malformed 16 KB id with the usual 404, without a query', async () => {
    const reference = await rawPost(stack, `${stack.url}/mcp/i/${randomBytes(32).toString('base64url')}`, listTools);
    const { selects, result: response } = await recorder.counted(() =>
      rawPost(stack, `${stack.url}/mcp/c/${'x'.repeat(16_000)}`, listTools),
    );
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(await reference.text());
    expect(selects).toBe(0);
  });

  it('caches nothing for 500 ids no config has, malformed or well-formed', async () => {
    // The known config's settings are cached by its first request.
    expect((await rawPost(stack, configUrl, listTools)).status).toBe(401);
    const size = accessCache().size;
    const statuses = new Map<string, number>();
    const count = (status: number) => statuses.set(String(status), (statuses.get(String(status)) ?? 0) + 1);
    for (let i = 0; i < 250; i++) {
      count((await rawPost(stack, `${stack.url}/mcp/c/${randomBytes(1_000).toString('hex')}`, listTools)).status);
      count((await rawPost(stack, `${stack.url}/mcp/c/${newId('cfg')}`, listTools)).status);
    }
    expect(accessCache().size).toBe(size);
    // Well-formed unknown ids are answered as a known config is without a token: nothing tells them apart.
    expect(Object.fromEntries(statuses)).toEqual({ 404: 250, 401: 250 });
    // The known config is still served from the cache.
    const { selects, result: known } = await recorder.counted(() => rawPost(stack, configUrl, listTools));
    expect(known.status).toBe(401);
    expect(selects).toBe(0);
  });
});
