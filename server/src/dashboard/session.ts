import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Kysely } from 'kysely';
import type { VerifiedClient } from '../auth/api-clients.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { AppEnv } from '../context.js';
import { hashSecret, newSecret } from '../crypto/random.js';
import type { Engine } from '../db/database.js';
import type { Database } from '../db/schema.js';

/** A session ends after this long without a request… */
export const IDLE_TIMEOUT_MS = 30 * 60_000;
/** …and in any case this long after sign-in. */
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60_000;
/** last_seen_at is written at most this often, so reading a page is not a write each time. */
const TOUCH_EVERY_MS = 60_000;

export interface DashboardSession {
  idHash: string;
  apiClientId: string;
  clientName: string;
  clientId: string;
  /** The API client's scope: a `read` session may look but not change anything. */
  scope: 'admin' | 'read';
  csrfToken: string;
}

/** The Hono env of every dashboard page: the app's request values plus the signed-in session. */
export type DashboardEnv = { Variables: AppEnv['Variables'] & { session: DashboardSession } };

interface Deps {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  config: Config;
}

/** Cookie names and attributes: `__Host-` and Secure whenever the dashboard is served over https. */
export function cookieNames(config: Config) {
  const secure = config.publicUrl.startsWith('https:');
  const prefix = secure ? '__Host-' : '';
  return {
    secure,
    session: `${prefix}sb_session`,
    signIn: `${prefix}sb_signin`,
  };
}

function cookieOptions(config: Config, maxAgeSeconds?: number) {
  const { secure } = cookieNames(config);
  return {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: 'Lax' as const,
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  };
}

/**
 * Server-side dashboard sessions. The cookie carries a 256-bit random token; the table keeps
 * only its hash, so a database dump does not hand out sessions. A session dies on logout,
 * after 30 idle minutes, after 12 hours, or when its API client is revoked.
 */
export class DashboardSessions {
  constructor(private readonly deps: Deps) {}

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /**
   * Starts a brand-new session (never reusing a presented id) and sets its cookie, only while
   * the client is as sign-in verified it: not revoked, its secret not rotated since. A rotation
   * or revocation ends the client's sessions in its own transaction, so one committed between
   * the secret check and this insert would miss the new row; the insert carries the check
   * instead. On Postgres FOR SHARE makes it wait for a rotation still in flight and re-check
   * the row it committed (without it, a snapshot taken before that commit passes, and the row
   * can land after the rotation's delete ran); SQLite runs one writer at a time. False when no
   * session was started.
   */
  async start(c: Context, client: Pick<VerifiedClient, 'id' | 'tokenVersion'>): Promise<boolean> {
    const { db, engine, config } = this.deps;
    const now = this.deps.clock.now();
    const old = getCookie(c, cookieNames(config).session);
    if (old) await db.deleteFrom('dashboard_sessions').where('id_hash', '=', hashSecret(old)).execute();
    await db
      .deleteFrom('dashboard_sessions')
      .where((eb) =>
        eb.or([eb('expires_at', '<=', this.iso(now)), eb('last_seen_at', '<=', this.iso(now - IDLE_TIMEOUT_MS))]),
      )
      .execute();
    const token = newSecret(32);
    const inserted = await db
      .insertInto('dashboard_sessions')
      .columns(['id_hash', 'api_client_id', 'csrf_token', 'created_at', 'last_seen_at', 'expires_at'])
      .expression(
        db
          .selectFrom('api_clients')
          .select((eb) => [
            eb.val(hashSecret(token)).as('id_hash'),
            eb.ref('id').as('api_client_id'),
            eb.val(newSecret(32)).as('csrf_token'),
            eb.val(this.iso(now)).as('created_at'),
            eb.val(this.iso(now)).as('last_seen_at'),
            eb.val(this.iso(now + ABSOLUTE_TIMEOUT_MS)).as('expires_at'),
          ])
          .where('id', '=', client.id)
          .where('revoked_at', 'is', null)
          .where('token_version', '=', client.tokenVersion)
          .$if(engine === 'postgres', (query) => query.forShare()),
      )
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
    setCookie(c, cookieNames(config).session, token, cookieOptions(config));
    return true;
  }

  /** The live session behind the request's cookie, refreshing its idle timer; undefined otherwise. */
  async current(c: Context): Promise<DashboardSession | undefined> {
    const token = getCookie(c, cookieNames(this.deps.config).session);
    if (!token) return undefined;
    const idHash = hashSecret(token);
    const row = await this.deps.db
      .selectFrom('dashboard_sessions as s')
      .innerJoin('api_clients as a', 'a.id', 's.api_client_id')
      .select([
        's.id_hash',
        's.api_client_id',
        's.csrf_token',
        's.last_seen_at',
        's.expires_at',
        'a.name',
        'a.client_id',
        'a.revoked_at',
        'a.scope',
      ])
      .where('s.id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const now = this.deps.clock.now();
    const lastSeen = Date.parse(row.last_seen_at);
    if (row.revoked_at || Date.parse(row.expires_at) <= now || lastSeen + IDLE_TIMEOUT_MS <= now) {
      await this.deps.db.deleteFrom('dashboard_sessions').where('id_hash', '=', idHash).execute();
      return undefined;
    }
    if (now - lastSeen >= TOUCH_EVERY_MS) {
      await this.deps.db
        .updateTable('dashboard_sessions')
        .set({ last_seen_at: this.iso(now) })
        .where('id_hash', '=', idHash)
        .execute();
    }
    return {
      idHash,
      apiClientId: row.api_client_id,
      clientName: row.name,
      clientId: row.client_id,
      scope: row.scope,
      csrfToken: row.csrf_token,
    };
  }

  async end(c: Context, session: DashboardSession | undefined): Promise<void> {
    if (session) await this.deps.db.deleteFrom('dashboard_sessions').where('id_hash', '=', session.idHash).execute();
    deleteCookie(c, cookieNames(this.deps.config).session, cookieOptions(this.deps.config));
  }
}

/** The sign-in form's double-submit token, bound to a short-lived pre-session cookie. */
export function signInToken(c: Context, config: Config): string {
  const name = cookieNames(config).signIn;
  const existing = getCookie(c, name);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = newSecret(32);
  setCookie(c, name, token, cookieOptions(config, 60 * 60));
  return token;
}

export function clearSignInToken(c: Context, config: Config): void {
  deleteCookie(c, cookieNames(config).signIn, cookieOptions(config));
}

export function presentedSignInToken(c: Context, config: Config): string | undefined {
  return getCookie(c, cookieNames(config).signIn);
}
