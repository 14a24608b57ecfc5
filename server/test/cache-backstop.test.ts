import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLL_MS } from '../src/cache/change-feed.js';
import { DEFAULT_MAX_AGE_MS } from '../src/cache/scoped-cache.js';
import { ENGINES, type ManualClock, manualClock, type Stack, startStack } from './support/index.js';

/**
 * Two replicas on one database, one clock moved by hand. A write and its change-feed bump
 * commit together or not at all, and a change that never went through the feed still
 * leaves every cache within the caches' max age.
 */
describe.each(ENGINES)('cached instances on %s', (engine) => {
  let a: Stack;
  let b: Stack;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = manualClock();
    a = await startStack({ engine, clock });
    b = await startStack({ database: a.db, clock });
    await a.createConnection('MY_GMAIL', 'gmail');
    const created = await a.api('POST', '/api/v1/mcp/configs', {
      name: 'backstop',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function instanceFor(user: string): Promise<{ id: string; secret: string }> {
    const ensured = await a.api<{ instance: { id: string; url: string } }>('POST', '/api/v1/mcp/instances', {
      config_name: 'backstop',
      user_identifier: user,
    });
    const secret = ensured.body.instance.url.split('/mcp/i/')[1] ?? '';
    return { id: ensured.body.instance.id, secret };
  }

  const servedByB = async (secret: string) => (await b.services.mcpTargets.byInstanceSecret(secret)) !== undefined;
  const versions = () => a.db.db.selectFrom('change_versions').select(['scope', 'version']).orderBy('scope').execute();

  it('rolls a delete back when the process dies before its version bump, and a real delete reaches the other replica', async () => {
    const instance = await instanceFor('crash-before-bump');
    expect(await servedByB(instance.secret)).toBe(true);
    const before = await versions();

    const bump = vi
      .spyOn(a.services.changes, 'changedIn')
      .mockRejectedValueOnce(new Error('the process died between the write and the bump'));
    await expect(a.services.mcpInstances.delete(instance.id)).rejects.toThrow('died between');
    bump.mockRestore();

    // Neither the delete nor the bump committed: the instance that B serves still exists.
    const row = await a.db.db.selectFrom('mcp_instances').select('id').where('id', '=', instance.id).executeTakeFirst();
    expect(row?.id).toBe(instance.id);
    expect(await versions()).toEqual(before);

    await a.services.mcpInstances.delete(instance.id);
    expect(await a.services.mcpTargets.byInstanceSecret(instance.secret)).toBeUndefined();
    clock.advance(DEFAULT_POLL_MS);
    expect(await servedByB(instance.secret)).toBe(false);
  });

  it('stops serving an instance deleted behind the change feed within the cache max age', async () => {
    const instance = await instanceFor('deleted-by-hand');
    expect(await servedByB(instance.secret)).toBe(true);

    await a.db.db.deleteFrom('mcp_instances').where('id', '=', instance.id).execute();
    clock.advance(DEFAULT_POLL_MS);
    // No version moved, so only the age can end the cached entry.
    expect(await servedByB(instance.secret)).toBe(true);

    clock.advance(DEFAULT_MAX_AGE_MS - DEFAULT_POLL_MS);
    expect(await servedByB(instance.secret)).toBe(false);
  });
});
