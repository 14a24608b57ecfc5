import { createHash } from 'node:crypto';
import type { Revocation } from '../accounts/connected-accounts.js';
import { CLIENT_SCRIPT } from './client-script.js';
import { CSRF_FIELD } from './csrf.js';
import { type Html, type HtmlValue, html } from './html.js';
import type { DashboardSession } from './session.js';
import { STYLES } from './styles.js';

/** The favicon: a switchboard's patch cord (two jacks and a cable), drawn for 16 px. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0d1117"/>' +
  '<path d="M9 22c0-8 14-4 14-12" fill="none" stroke="#58a6ff" stroke-width="3" stroke-linecap="round"/>' +
  '<circle cx="9" cy="23" r="4" fill="#f0f6fc"/><circle cx="23" cy="9" r="4" fill="#f0f6fc"/></svg>';

const fingerprint = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Content-addressed asset paths, so browsers may cache them forever. */
export const ASSETS = {
  css: { path: `/dashboard/assets/app.${fingerprint(STYLES)}.css`, body: STYLES, type: 'text/css; charset=utf-8' },
  js: {
    path: `/dashboard/assets/app.${fingerprint(CLIENT_SCRIPT)}.js`,
    body: CLIENT_SCRIPT,
    type: 'text/javascript; charset=utf-8',
  },
  icon: { path: `/dashboard/assets/icon.${fingerprint(FAVICON)}.svg`, body: FAVICON, type: 'image/svg+xml' },
};

export type Section = 'connections' | 'mcp' | 'users' | 'accounts' | 'logs' | 'clients';

const NAV: { section: Section; href: string; label: string }[] = [
  { section: 'connections', href: '/dashboard/connections', label: 'Connections' },
  { section: 'mcp', href: '/dashboard/mcp-configs', label: 'MCP configs' },
  { section: 'users', href: '/dashboard/users', label: 'Users' },
  { section: 'accounts', href: '/dashboard/accounts', label: 'Accounts' },
  { section: 'logs', href: '/dashboard/logs', label: 'Tool-call logs' },
  { section: 'clients', href: '/dashboard/clients', label: 'API clients' },
];

export interface PageOptions {
  title: string;
  session?: DashboardSession;
  section?: Section;
  body: Html;
}

/** The hidden field every form carries. */
export function csrfField(session: DashboardSession): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${session.csrfToken}">`;
}

export function page(options: PageOptions): string {
  const { session } = options;
  const nav: HtmlValue = session
    ? html`<nav class="main" aria-label="Sections"><ul>${NAV.map(
        (item) =>
          html`<li><a href="${item.href}"${item.section === options.section ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
      )}</ul></nav>
<div class="who"><span>Signed in as <strong>${session.clientName}</strong></span>
<form class="inline" method="post" action="/dashboard/sign-out">${csrfField(session)}<button type="submit">Sign out</button></form></div>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light">${session ? html`<meta name="csrf-token" content="${session.csrfToken}">` : ''}
<title>${options.title} · Switchboard</title>
<link rel="icon" type="image/svg+xml" href="${ASSETS.icon.path}">
<link rel="stylesheet" href="${ASSETS.css.path}">
<script src="${ASSETS.js.path}" defer></script>
</head><body>
<a class="skip" href="#content">Skip to content</a>
<header class="top"><a class="brand" href="/dashboard">Switchboard</a>${nav}</header>
<main id="content" tabindex="-1">${options.body}</main>
<div id="live" class="visually-hidden" role="status" aria-live="polite"></div>
<footer>Switchboard dashboard</footer>
</body></html>`.value;
}

export function notice(tone: 'ok' | 'bad', message: HtmlValue): Html {
  return html`<div class="notice ${tone}" role="${tone === 'bad' ? 'alert' : 'status'}">${message}</div>`;
}

/** The messages a redirect may announce: fixed texts chosen by key, never text from the URL. */
const NOTICES: Record<string, string> = {
  'connection-created': 'Connection created.',
  'connection-updated': 'Connection saved.',
  'connection-deleted': 'Connection deleted.',
  'config-created': 'MCP config created.',
  'config-updated': 'MCP config saved.',
  'config-deleted': 'MCP config deleted.',
  disconnected: 'Account disconnected: its grant was revoked at the provider and its tokens forgotten.',
  'disconnected-revoke-failed':
    'Account disconnected and its tokens forgotten, but the provider did not confirm the revocation (the server logged why): the grant may still be listed in the account at the provider until the user removes it there.',
  'disconnected-no-grant': 'Account disconnected. It held no tokens, so there was nothing to revoke at the provider.',
  'account-deleted': 'Account deleted: its grant was revoked at the provider and its tokens forgotten.',
  'account-deleted-revoke-failed':
    'Account deleted and its tokens forgotten, but the provider did not confirm the revocation (the server logged why): the grant may still be listed in the account at the provider until the user removes it there.',
  'account-deleted-no-grant': 'Account deleted. It held no tokens, so there was nothing to revoke at the provider.',
  'instance-rotated': 'A new URL was issued; the old one no longer works.',
  'client-revoked': 'API client revoked. Its access tokens no longer work.',
  'grant-revoked': 'MCP client signed out. Its refresh and access tokens no longer work.',
};

export function noticeFromQuery(key: string | undefined): Html | string {
  const text = key ? NOTICES[key] : undefined;
  return text ? notice('ok', text) : '';
}

export function errorList(problems: string[]): Html | string {
  if (!problems.length) return '';
  return notice(
    'bad',
    html`<strong>Please fix the following:</strong><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul>`,
  );
}

export function statusBadge(status: string): Html {
  const tone =
    status === 'ACTIVE' || status === 'SUCCESS'
      ? 'ok'
      : status === 'PENDING_AUTH' || status === 'PENDING_VERIFICATION'
        ? 'warn'
        : status === 'EXPIRED' || status === 'FAILED'
          ? 'bad'
          : 'muted';
  return html`<span class="badge ${tone}">${status}</span>`;
}

/** A status badge and its reason, unless the reason only repeats the status (DISCONNECTED / disconnected). */
export function statusWithReason(status: string, reason: string | null): Html {
  const repeats = !reason || reason.toLowerCase() === status.toLowerCase();
  return html`${statusBadge(status)}${repeats ? '' : html` <span class="hint">${reason.replaceAll('_', ' ')}</span>`}`;
}

/** The notice key for a disconnect or delete, from what became of the grant at the provider. */
export function revocationNotice(action: 'disconnected' | 'account-deleted', revocation: Revocation): string {
  return revocation === 'revoked' ? action : `${action}-${revocation === 'failed' ? 'revoke-failed' : 'no-grant'}`;
}

/** A command or request line: it wraps between its words only, never inside one (`clients c|reate`). */
export function command(text: string): Html {
  return html`<code class="command">${text.split(' ').map((word, i) => html`${i ? ' ' : ''}<span>${word}</span>`)}</code>`;
}

/** A value with a copy button (the button appears only when the script runs). */
export function copyable(id: string, value: string, label = 'Copy'): Html {
  return html`<div class="copy"><code id="${id}">${value}</code><button type="button" data-copy="${id}" hidden>${label}</button></div>`;
}

/** Shows an ISO time as UTC, readable, in a <time> element. */
export function time(iso: string | null | undefined): Html | string {
  if (!iso) return '—';
  return html`<time datetime="${iso}">${iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
    .replace('Z', ' UTC')}</time>`;
}
