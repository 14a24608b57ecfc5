import { Redis } from 'ioredis';

export const TEST_REDIS_PORT = 6379;
export const TEST_REDIS_URL = `redis://127.0.0.1:${TEST_REDIS_PORT}`;

/**
 * Whether the test Redis answers a PING within a second. Redis runs here and in CI (.ci/run
 * starts it): under CI its absence is an error; elsewhere the shared-limit tests say why they skip.
 */
export async function testRedisUp(): Promise<boolean> {
  const probe = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  let up = false;
  try {
    await probe.connect();
    up = (await probe.ping()) === 'PONG';
  } catch {
    up = false;
  } finally {
    probe.disconnect();
  }
  if (!up && process.env.CI) throw new Error(`Redis does not answer at ${TEST_REDIS_URL}, and CI needs it`);
  if (!up) console.warn(`skipping the shared rate-limit tests: Redis does not answer at ${TEST_REDIS_URL}`);
  return up;
}
