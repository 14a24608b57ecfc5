import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLL_MS } from '../../src/cache/change-feed.js';
import { openDatabase } from '../../src/db/database.js';
import { AppError } from '../../src/errors.js';
import type { ConfigDetail } from '../../src/mcp/configs.js';
import { parseExpiry } from '../../src/mcp/session-tokens.js';
import { manualClock } from '../support/clock.js';
import { ENGINES } from '../support/database.js';
import { type Stack, startStack } from '../support/stack.js';
import type { ApiConfig } from './support.js';

/**
 * SessionTokens' own rules, called directly (issue 18's mutation testing of session-tokens.ts):
 * the expiry a caller may ask for, what minting requires and puts in a token, and each claim
 * verify() checks. The HTTP paths are covered by session-token-revocation.test.ts.
 */
describe('the expiry of a session token', () => {
  it('defaults to an hour, takes whole or fractional seconds, and trims spaces', () => {
    expect(parseExpiry(undefined)).toBe(3600);
    expect(parseExpiry('')).toBe(3600);
    expect(parseExpiry('90.5s')).toBe(90);
    expect(parseExpiry('90.25s')).toBe(90);
    expect(parseExpiry(' 120s ')).toBe(120);
  });

  it('accepts 60 s to 24 h, bounds included', () => {
    expect(parseExpiry('60s')).toBe(60);
    expect(parseExpiry('86400s')).toBe(86400);
  });

  it.each(['59s', '86401s', '0s', '3600', 'x3600s', '3600sx', '3600.s', '-3600s', 'abc'])('refuses %j', (expiry) => {
    expect(() => parseExpiry(expiry)).toThrow(
      new AppError('validation_failed', 'expiry: give a duration between 60s and 86400s, e.g. "3600s"'),
    );
  });
});

describe.each(ENGINES)('minting and verifying session tokens directly (%s)', (engine) => {
  const clock = manualClock(Date.UTC(2026, 10, 24, 9, 0, 0, 700));
  let stack: Stack;
  let config: ConfigDetail;
  let people = 0;
  beforeAll(async () => {
    stack = await startStack({ engine, clock });
    await stack.createConnection('MY_GMAIL', 'gmail');
    await stack.createConnection('MY_CALENDAR', 'googlecalendar');
    const created = await stack.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
      name: 'both',
      connection_tool_mappings: [
        { connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] },
        { connection_name: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
      ],
    });
    config = await stack.services.mcpConfigs.get(created.body.config.id);
  });
  afterAll(() => stack?.close());

  const tokens = () => stack.services.sessionTokens;
  const url = () => `${stack.url}/mcp/c/${config.id}`;
  /** A user with ACTIVE accounts on both connections; returns [gmail account, calendar account]. */
  const connectBoth = async (identifier = `person-${++people}`) => {
    const gmail = await stack.connectAccount('MY_GMAIL', identifier, 'john.doe@example.com');
    const calendar = await stack.connectAccount('MY_CALENDAR', identifier, 'jane.doe@example.com');
    return { identifier, gmail, calendar };
  };
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };
  /** A token for this config's URL with these claims, as this server signs them. */
  const sign = (claims: Record<string, unknown>, audience = url()) =>
    stack.services.signingKeys.sign(claims, { audience, issuer: stack.url, expiresInSeconds: 600 });

  it('puts the user, the config, its accounts in mapping order, the mint time and the revocation count in the token', async () => {
    const user = await connectBoth();
    const minted = await tokens().mint(config, user.identifier, 600);
    const claims = decodeJwt(minted.token);
    expect(claims).toMatchObject({
      sub: user.identifier,
      mcp_cfg: config.id,
      ca_ids: [user.gmail, user.calendar],
      mint_ms: clock.now(),
      rev: 0,
      aud: url(),
      iss: stack.url,
    });
    expect(claims).not.toHaveProperty('rev_nb');
    expect(claims.ca_who).toHaveLength(2);
    expect(claims.ca_who).toEqual([expect.stringMatching(/^[0-9a-f]{16}$/), expect.stringMatching(/^[0-9a-f]{16}$/)]);
    // Different people consented to the two accounts.
    expect((claims.ca_who as string[])[0]).not.toBe((claims.ca_who as string[])[1]);
    // Whole seconds, like the token's own exp.
    expect(minted.expires_at).toBe(new Date((Math.floor(clock.now() / 1000) + 600) * 1000).toISOString());
    expect(Date.parse(minted.expires_at) / 1000).toBe(claims.exp);
    expect(await tokens().verify(minted.token, config.id)).toEqual({
      identifier: user.identifier,
      configId: config.id,
    });
  });

  it('refuses to mint for a config without mappings', async () => {
    const empty = { ...config, name: 'empty-config', mappings: [] };
    const error = await failure(tokens().mint(empty, 'anyone', 600));
    expect(error).toMatchObject({
      code: 'failed_precondition',
      message: 'MCP config empty-config maps no connections',
    });
  });

  it('refuses to mint while one mapped connection has no ACTIVE account of this user, naming it', async () => {
    const identifier = `person-${++people}`;
    await stack.connectAccount('MY_GMAIL', identifier, 'john.doe@example.com');
    // Another user's calendar account does not count.
    await stack.connectAccount('MY_CALENDAR', `${identifier}-other`, 'jane.doe@example.com');
    const error = await failure(tokens().mint(config, identifier, 600));
    expect(error.code).toBe('failed_precondition');
    expect(error.details).toEqual({ connections: ['MY_CALENDAR'] });
    expect(error.message).toBe(
      `${identifier} has no ACTIVE connected account for MY_CALENDAR; connect them first (POST /api/v1/mcp/configs/${config.id}/connected_accounts with include_auth_link)`,
    );
  });

  it('names every mapped connection the user has not connected, in mapping order', async () => {
    const error = await failure(tokens().mint(config, 'nobody-connected', 600));
    expect(error.details).toEqual({ connections: ['MY_GMAIL', 'MY_CALENDAR'] });
    expect(error.message).toMatch(/^nobody-connected has no ACTIVE connected account for MY_GMAIL, MY_CALENDAR; /);
  });

  it('does not count an account that is not ACTIVE when minting', async () => {
    const user = await connectBoth();
    await stack.db.db
      .updateTable('connected_accounts')
      .set({ status: 'EXPIRED' })
      .where('id', '=', user.calendar)
      .execute();
    const error = await failure(tokens().mint(config, user.identifier, 600));
    expect(error.details).toEqual({ connections: ['MY_CALENDAR'] });
  });

  it('verifies a token only at the config it names, for a non-empty user', async () => {
    const user = await connectBoth();
    const minted = await tokens().mint(config, user.identifier, 600);
    const claims = decodeJwt(minted.token);
    expect(await tokens().verify(minted.token, 'cfg_other')).toBeUndefined();
    expect(await tokens().verify('not-a-jwt', config.id)).toBeUndefined();
    expect(await tokens().verify(await sign({ ...claims, sub: '' }), config.id)).toBeUndefined();
    expect(await tokens().verify(await sign({ ...claims, sub: undefined }), config.id)).toBeUndefined();
    expect(await tokens().verify(await sign({ ...claims, mcp_cfg: 'cfg_other' }), config.id)).toBeUndefined();
  });

  it('refuses tokens whose account lists are missing, empty, malformed or of another length than ca_who', async () => {
    const user = await connectBoth();
    const claims = decodeJwt((await tokens().mint(config, user.identifier, 600)).token);
    const who = claims.ca_who as string[];
    const verify = async (patch: Record<string, unknown>) =>
      tokens().verify(await sign({ ...claims, ...patch }), config.id);
    expect(await verify({})).toEqual({ identifier: user.identifier, configId: config.id });
    expect(await verify({ ca_ids: undefined })).toBeUndefined();
    expect(await verify({ ca_ids: user.gmail })).toBeUndefined();
    expect(await verify({ ca_ids: [], ca_who: [] })).toBeUndefined();
    expect(await verify({ ca_who: [who[0]] })).toBeUndefined();
    expect(await verify({ ca_ids: [user.gmail], ca_who: [who[0], who[1]] })).toBeUndefined();
    expect(await verify({ ca_ids: [user.gmail, 42], ca_who: who })).toBeUndefined();
    // Each account must be consented by the person the token names for it.
    expect(await verify({ ca_who: [who[1], who[0]] })).toBeUndefined();
    expect(await verify({ ca_ids: [user.gmail], ca_who: [who[0]] })).toEqual({
      identifier: user.identifier,
      configId: config.id,
    });
    // Without ca_who (older tokens) the accounts are still checked.
    expect(await verify({ ca_who: undefined })).toEqual({ identifier: user.identifier, configId: config.id });
    expect(await verify({ ca_who: undefined, ca_ids: [user.gmail, 'ca_gone'] })).toBeUndefined();
  });

  it('ends tokens minted before a revocation to the millisecond; those minted at or after it live', async () => {
    const user = await connectBoth();
    const before = await tokens().mint(config, user.identifier, 600);
    clock.advance(1);
    await tokens().revoke(config.id, user.identifier);
    const at = await tokens().mint(config, user.identifier, 600);
    expect(await tokens().verify(before.token, config.id)).toBeUndefined();
    expect(await tokens().verify(at.token, config.id)).toEqual({ identifier: user.identifier, configId: config.id });
    // A second revocation moves the line.
    clock.advance(1);
    await tokens().revoke(config.id, user.identifier);
    expect(await tokens().verify(at.token, config.id)).toBeUndefined();
    // Another user of the same config is not touched.
    const other = await connectBoth();
    expect(await tokens().verify((await tokens().mint(config, other.identifier, 600)).token, config.id)).toBeDefined();
  });

  it('orders a token without rev and mint_ms by its iat, in whole seconds', async () => {
    const user = await connectBoth();
    const claims = { ...decodeJwt((await tokens().mint(config, user.identifier, 600)).token), rev: undefined };
    const legacy = await sign({ ...claims, mint_ms: undefined });
    expect(await tokens().verify(legacy, config.id)).toBeDefined();
    // Revoked 700 ms into the second the token was issued in: iat * 1000 is before it.
    await tokens().revoke(config.id, user.identifier);
    expect(await tokens().verify(legacy, config.id)).toBeUndefined();
    // Issued two seconds later: iat * 1000 is after the revocation.
    clock.advance(2000);
    const later = await sign({ ...claims, mint_ms: undefined });
    expect(await tokens().verify(later, config.id)).toEqual({ identifier: user.identifier, configId: config.id });
  });

  it('counts two revocations made at the same instant as two', async () => {
    const user = await connectBoth();
    await tokens().revoke(config.id, user.identifier);
    const between = await tokens().mint(config, user.identifier, 600);
    expect(decodeJwt(between.token)).toMatchObject({ rev: 1, rev_nb: clock.now() });
    await tokens().revoke(config.id, user.identifier);
    expect(await tokens().verify(between.token, config.id)).toBeUndefined();
    const after = await tokens().mint(config, user.identifier, 600);
    expect(decodeJwt(after.token).rev).toBe(2);
    expect(await tokens().verify(after.token, config.id)).toBeDefined();
  });

  it("ends this build's tokens when an older build revokes (it moves not_before and counts nothing)", async () => {
    const user = await connectBoth();
    const older = async () =>
      stack.services.changes.write(['clients'], (trx) =>
        trx
          .insertInto('mcp_session_revocations')
          .values({
            config_id: config.id,
            identifier: user.identifier,
            not_before: new Date(clock.now()).toISOString(),
          })
          .onConflict((oc) =>
            oc.columns(['config_id', 'identifier']).doUpdateSet({ not_before: new Date(clock.now()).toISOString() }),
          )
          .execute(),
      );
    const first = await tokens().mint(config, user.identifier, 600);
    clock.advance(1);
    await older();
    expect(await tokens().verify(first.token, config.id)).toBeUndefined();
    const second = await tokens().mint(config, user.identifier, 600);
    expect(await tokens().verify(second.token, config.id)).toBeDefined();
    clock.advance(1);
    await older();
    expect(await tokens().verify(second.token, config.id)).toBeUndefined();
  });

  it("forgets what it cached about a user once the config stops mapping one of the token's accounts", async () => {
    const user = await connectBoth();
    const minted = await tokens().mint(config, user.identifier, 600);
    expect(await tokens().verify(minted.token, config.id)).toBeDefined();
    // The second verify is answered from the cache.
    expect(await tokens().verify(minted.token, config.id)).toBeDefined();
    const lookups = await stack.services.metrics.registry.getSingleMetric('switchboard_cache_lookups_total')?.get();
    expect(lookups?.values.some((v) => v.labels.cache === 'session_tokens' && v.labels.result === 'hit')).toBe(true);
    const gmailOnly = await stack.services.mcpConfigs.update(config.id, {
      mappings: [{ connectionName: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    try {
      expect(await tokens().verify(minted.token, config.id)).toBeUndefined();
    } finally {
      config = await stack.services.mcpConfigs.update(gmailOnly.id, {
        mappings: [
          { connectionName: 'MY_GMAIL', tools: ['gmail_fetch_mails'] },
          { connectionName: 'MY_CALENDAR', tools: ['googlecalendar_create_event'] },
        ],
      });
    }
  });
});

/**
 * Two replicas on one database whose clocks disagree by 5 s (B behind A): a revocation is
 * ordered against the tokens by its count, never by comparing the two clocks.
 */
describe.each(ENGINES)('revoking session tokens across replicas whose clocks disagree (%s)', (engine) => {
  const start = Date.UTC(2026, 10, 24, 9, 0, 0);
  const clockA = manualClock(start);
  const clockB = manualClock(start - 5_000);
  let a: Stack;
  let b: Stack;
  let config: ConfigDetail;
  let people = 0;
  beforeAll(async () => {
    a = await startStack({ engine, clock: clockA });
    b = await startStack({ database: a.db, clock: clockB });
    await a.createConnection('MY_GMAIL', 'gmail');
    const created = await a.api<{ config: ApiConfig }>('POST', '/api/v1/mcp/configs', {
      name: 'skewed',
      connection_tool_mappings: [{ connection_name: 'MY_GMAIL', tools: ['gmail_fetch_mails'] }],
    });
    config = await a.services.mcpConfigs.get(created.body.config.id);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const person = async () => {
    const identifier = `skewed-${++people}`;
    await a.connectAccount('MY_GMAIL', identifier);
    return identifier;
  };
  /** Time passes on both replicas (the skew stays), past a poll of the change feed. */
  const later = () => {
    clockA.advance(DEFAULT_POLL_MS + 1);
    clockB.advance(DEFAULT_POLL_MS + 1);
  };
  /** What each replica answers for the token: [A, B], true when it is accepted. */
  const accepted = async (token: string) => [
    (await a.services.sessionTokens.verify(token, config.id)) !== undefined,
    (await b.services.sessionTokens.verify(token, config.id)) !== undefined,
  ];

  it('ends a token minted on A by a revocation on B, whose clock reads 5 s earlier', async () => {
    const identifier = await person();
    const minted = await a.services.sessionTokens.mint(config, identifier, 600);
    expect(await accepted(minted.token)).toEqual([true, true]);
    later();
    await b.services.sessionTokens.revoke(config.id, identifier);
    later();
    expect(await accepted(minted.token)).toEqual([false, false]);
  });

  it('keeps a token minted on B after a revocation on A, although B reads a time before it', async () => {
    const identifier = await person();
    await a.services.sessionTokens.revoke(config.id, identifier);
    later();
    const minted = await b.services.sessionTokens.mint(config, identifier, 600);
    expect(decodeJwt(minted.token).mint_ms).toBeLessThan(clockA.now() - 4_000);
    expect(await accepted(minted.token)).toEqual([true, true]);
  });

  it('still orders a token without rev (minted by an older build) by its mint time against not_before', async () => {
    const identifier = await person();
    const claims = {
      ...decodeJwt((await a.services.sessionTokens.mint(config, identifier, 600)).token),
      rev: undefined,
    };
    const sign = (mintMs: number) =>
      a.services.signingKeys.sign(
        { ...claims, mint_ms: mintMs },
        { audience: claims.aud as string, issuer: a.url, expiresInSeconds: 600 },
      );
    const before = await sign(clockB.now());
    later();
    await b.services.sessionTokens.revoke(config.id, identifier);
    const revokedAt = clockB.now();
    later();
    const after = await sign(revokedAt);
    // The count moved past both; their mint times, on the revoking replica's clock, decide.
    expect(await accepted(before)).toEqual([false, false]);
    expect(await accepted(after)).toEqual([true, true]);
    expect(await accepted(await sign(revokedAt - 1))).toEqual([false, false]);
  });

  it('counts a revocation made before the count existed as one when the database is upgraded', async () => {
    const identifier = await person();
    const claims = {
      ...decodeJwt((await a.services.sessionTokens.mint(config, identifier, 600)).token),
      rev: undefined,
    };
    const db = a.db.db;
    // The database as the build before migration 0014 left it, revoked once.
    await sql`alter table mcp_session_revocations drop column generation`.execute(db);
    await sql`delete from kysely_migration where name = '0014_session_revocation_generations'`.execute(db);
    const revokedAt = clockA.now();
    await sql`insert into mcp_session_revocations (config_id, identifier, not_before)
      values (${config.id}, ${identifier}, ${new Date(revokedAt).toISOString()})`.execute(db);
    await (await openDatabase({ ...a.db.reopen })).close();
    const row = await db
      .selectFrom('mcp_session_revocations')
      .select('generation')
      .where('identifier', '=', identifier)
      .executeTakeFirstOrThrow();
    expect(row.generation).toBe(1);
    const older = await a.services.signingKeys.sign(
      { ...claims, mint_ms: revokedAt - 1 },
      { audience: claims.aud as string, issuer: a.url, expiresInSeconds: 600 },
    );
    expect(await accepted(older)).toEqual([false, false]);
    const minted = await b.services.sessionTokens.mint(config, identifier, 600);
    expect(decodeJwt(minted.token).rev).toBe(1);
    expect(await accepted(minted.token)).toEqual([true, true]);
  });
});
