import type { Hono } from 'hono';
import { ACCOUNT_STATUSES } from '../accounts/connected-accounts.js';
import type { Services } from '../context.js';
import { providerIcon } from './connections.js';
import { html, queryString } from './html.js';
import { page, statusWithReason, time } from './layout.js';
import type { DashboardEnv } from './session.js';

const PAGE_SIZE = 50;

/** Every connected account across users: filter by status and connection, search by user, account email or id. */
export function registerAccountPages(dashboard: Hono<DashboardEnv>, services: Services): void {
  const { accounts, catalog } = services;

  dashboard.get('/accounts', async (c) => {
    const q = (c.req.query('q') ?? '').trim().slice(0, 256);
    const statusQuery = c.req.query('status') ?? '';
    const status = (ACCOUNT_STATUSES as readonly string[]).includes(statusQuery) ? statusQuery : '';
    const connectionId = (c.req.query('connection') ?? '').slice(0, 64);
    const pageNumber = Math.max(1, Math.min(10_000, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
    const [{ rows, total }, { rows: connections }, counts] = await Promise.all([
      accounts.list({
        query: q || undefined,
        status: status || undefined,
        connectionId: connectionId || undefined,
        limit: PAGE_SIZE,
        offset: (pageNumber - 1) * PAGE_SIZE,
      }),
      services.connections.list({ limit: 500, offset: 0 }),
      accounts.countByStatus(),
    ]);
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const link = (n: number) =>
      `/dashboard/accounts${queryString({ q, status, connection: connectionId, page: n > 1 ? n : undefined })}`;
    const all = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const filters = html`<form method="get" action="/dashboard/accounts" role="search" class="panel"><div class="filters">
<div class="field"><label for="q">Search</label><input type="search" id="q" name="q" value="${q}" placeholder="user, Google email or account id" aria-describedby="q-hint"></div>
<div class="field"><label for="status">Status</label><select id="status" name="status"><option value="">Any (${all})</option>${ACCOUNT_STATUSES.map(
      (s) => html`<option value="${s}"${s === status ? html` selected` : ''}>${s} (${counts[s] ?? 0})</option>`,
    )}</select></div>
<div class="field"><label for="connection">Connection</label><select id="connection" name="connection"><option value="">Any</option>${connections.map(
      (row) => html`<option value="${row.id}"${row.id === connectionId ? html` selected` : ''}>${row.name}</option>`,
    )}</select></div>
<div class="actions"><button type="submit" class="primary">Apply</button>${
      q || status || connectionId ? html`<a class="button" href="/dashboard/accounts">Clear</a>` : ''
    }</div></div>
<p class="hint" id="q-hint">Search takes part of a user identifier or of the provider account's email, or a whole account id.</p></form>`;
    const table = rows.length
      ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">Connected accounts</caption>
<thead><tr><th scope="col">User</th><th scope="col">Connection</th><th scope="col">Provider account</th><th scope="col">Status</th><th scope="col">Last used</th><th scope="col">Updated</th></tr></thead>
<tbody>${rows.map(
          (row) => html`<tr>
<td data-label="User"><a href="/dashboard/user${queryString({ identifier: row.identifier })}"><code>${row.identifier}</code></a></td>
<td data-label="Connection"><span class="provider-cell">${providerIcon(catalog.providers.get(row.c_provider))}<strong>${row.c_name}</strong></span></td>
<td data-label="Account"><span class="email">${row.provider_account ?? '—'}</span></td>
<td data-label="Status">${statusWithReason(row.status, row.status_reason)}</td>
<td data-label="Last used">${time(row.last_used_at)}</td>
<td data-label="Updated">${time(row.updated_at)}</td></tr>`,
        )}</tbody></table></div>
<nav class="pager" aria-label="Pages">${pageNumber > 1 ? html`<a class="button" href="${link(pageNumber - 1)}">Previous</a>` : ''}<span class="muted">Page ${pageNumber} of ${pages} (${total} accounts)</span>${
          pageNumber < pages ? html`<a class="button" href="${link(pageNumber + 1)}">Next</a>` : ''
        }</nav>`
      : html`<div class="panel"><p>${
          q || status || connectionId
            ? 'No connected account matches.'
            : 'No connected accounts yet: one appears when a user opens an authentication link.'
        }</p></div>`;
    return c.html(
      page({
        title: 'Connected accounts',
        session: c.get('session'),
        section: 'accounts',
        body: html`<h1>Connected accounts</h1><p class="lead">Every user's accounts, across connections.</p>${filters}${table}`,
      }),
    );
  });
}
