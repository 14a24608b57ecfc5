import { createHash } from 'node:crypto';
import { CLIENT_SCRIPT } from './client-script.js';
import { CSRF_FIELD } from './csrf.js';
import { type Html, type HtmlValue, html } from './html.js';
import type { DashboardSession } from './session.js';
import { STYLES } from './styles.js';

const fingerprint = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Content-addressed asset paths, so browsers may cache them forever. */
export const ASSETS = {
  css: { path: `/dashboard/assets/app.${fingerprint(STYLES)}.css`, body: STYLES, type: 'text/css; charset=utf-8' },
  js: {
    path: `/dashboard/assets/app.${fingerprint(CLIENT_SCRIPT)}.js`,
    body: CLIENT_SCRIPT,
    type: 'text/javascript; charset=utf-8',
  },
};

export type Section = 'connections' | 'mcp' | 'users' | 'logs' | 'clients';

const NAV: { section: Section; href: string; label: string }[] = [
  { section: 'connections', href: '/dashboard/connections', label: 'Connections' },
  { section: 'mcp', href: '/dashboard/mcp-configs', label: 'MCP configs' },
  { section: 'users', href: '/dashboard/users', label: 'Users' },
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
  disconnected: 'Account disconnected. Its tokens were revoked and forgotten.',
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
