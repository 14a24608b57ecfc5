import { expect } from 'vitest';
import type { TestBrowser } from './browser.js';

/**
 * What a sign-in fixation must meet: `attacker` started the sign-in at `requestPath` (its cookie),
 * `victim` did the identity step elsewhere and was sent back to `sentBack`. The attacker gets no
 * page naming the victim and no code; the victim's browser is refused and the sign-in ends, so
 * the link it landed on is worth nothing passed on to the attacker either.
 */
export async function expectFixationRefused(
  origin: string,
  requestPath: string,
  browsers: { attacker: TestBrowser; victim: TestBrowser },
  sentBack: URL,
  victimName: string,
): Promise<void> {
  const { attacker, victim } = browsers;
  // The attacker's browser has the cookie but did not come back from the identity step.
  const consent = await attacker.request(`${origin}${requestPath}`);
  expect(consent.status).toBe(400);
  const html = await consent.text();
  expect(html).not.toContain(victimName);
  expect(html).toContain('auth_state_invalid');
  const decided = await attacker.request(`${origin}${requestPath}`, { form: { decision: 'allow', csrf: 'unknown' } });
  expect(decided.status).toBe(400);
  expect(decided.headers.get('location')).toBeNull();

  // The victim's browser came back but did not start it.
  const landed = await victim.request(sentBack);
  expect(landed.status).toBe(400);
  expect(await landed.text()).toContain('started in another browser');
  const passedOn = await attacker.request(sentBack);
  expect(passedOn.status).toBe(400);
  expect(await passedOn.text()).not.toContain(victimName);
}
