import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChangeFeed } from '../src/cache/change-feed.js';
import { manualClock } from './support/clock.js';
import { createTestDatabase, ENGINES, type TestDatabase } from './support/database.js';

const POLL_MS = 250;

describe.each(ENGINES)('the change feed on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db?.close());

  /** Two replicas' feeds over one database, each with one `mcp` cache holding `key`. */
  async function replicas() {
    const clock = manualClock();
    const here = new ChangeFeed({ db: db.db, clock }, POLL_MS);
    const there = new ChangeFeed({ db: db.db, clock }, POLL_MS);
    const cacheHere = here.cache<string, string>(['mcp'], 10);
    const cacheThere = there.cache<string, string>(['mcp'], 10);
    await here.sync();
    await there.sync();
    return { clock, here, there, cacheHere, cacheThere };
  }

  it("empties this replica's caches once at its own write, not again at the next poll", async () => {
    const { clock, here, cacheHere } = await replicas();
    cacheHere.set('k', 'old', cacheHere.generation);
    await here.write(['mcp'], async () => undefined);
    expect(cacheHere.get('k')).toBeUndefined();

    // Loaded again after the write: the poll that sees the write's own version keeps it.
    cacheHere.set('k', 'new', cacheHere.generation);
    clock.advance(POLL_MS + 1);
    await here.sync();
    expect(cacheHere.get('k')).toBe('new');
  });

  it("empties the other replica's caches at its next poll", async () => {
    const { clock, here, there, cacheThere } = await replicas();
    cacheThere.set('k', 'old', cacheThere.generation);
    await here.write(['mcp'], async () => undefined);
    await there.sync();
    expect(cacheThere.get('k')).toBe('old'); // within its poll interval
    clock.advance(POLL_MS + 1);
    await there.sync();
    expect(cacheThere.get('k')).toBeUndefined();
  });

  it("still empties at the poll a version another replica wrote before this replica's write", async () => {
    const { clock, here, there, cacheHere } = await replicas();
    await there.write(['mcp'], async () => undefined);
    await here.write(['mcp'], async () => undefined);
    cacheHere.set('k', 'after both', cacheHere.generation);
    clock.advance(POLL_MS + 1);
    await here.sync();
    // Both versions committed before this replica's emptying, which covered them: kept.
    expect(cacheHere.get('k')).toBe('after both');

    await there.write(['mcp'], async () => undefined);
    clock.advance(POLL_MS + 1);
    await here.sync();
    expect(cacheHere.get('k')).toBeUndefined();
  });
});

describe('the change feed sweeps its caches', () => {
  it('drops expired entries of every cache on its timer, at most its limit a cache each time, until stopped', async () => {
    const db = await createTestDatabase('sqlite');
    // Only the sweep's own timer is faked: the database keeps its real ones.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const clock = manualClock();
      const feed = new ChangeFeed({ db: db.db, clock });
      const scoped = feed.cache<number, number>(['mcp'], 100, { maxAgeMs: 1_000 });
      const unscoped = feed.cache<number, number>([], 100, { maxAgeMs: 1_000 });
      for (let key = 0; key < 10; key++) {
        scoped.set(key, key, scoped.generation);
        unscoped.set(key, key, unscoped.generation);
      }
      const stop = feed.startSweeping(500, 4);
      vi.advanceTimersByTime(500);
      expect([scoped.size, unscoped.size]).toEqual([10, 10]);
      clock.advance(1_000);
      vi.advanceTimersByTime(500);
      expect([scoped.size, unscoped.size]).toEqual([6, 6]);
      vi.advanceTimersByTime(500);
      expect([scoped.size, unscoped.size]).toEqual([2, 2]);
      stop();
      vi.advanceTimersByTime(5_000);
      expect([scoped.size, unscoped.size]).toEqual([2, 2]);
    } finally {
      vi.useRealTimers();
      await db.close();
    }
  });
});
