import type { Context, Hono } from 'hono';
import { type ApiClientRow, CLIENT_SCOPES, type ClientScope, type IssuedClient } from '../auth/api-clients.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { field, readForm } from './form.js';
import { type Html, html } from './html.js';
import { copyable, csrfField, errorList, notice, noticeFromQuery, page, time } from './layout.js';
import type { DashboardEnv } from './session.js';

type Ctx = Context<DashboardEnv>;

/** Management clients can mint admin credentials: only an admin session may see or change them. */
function requireAdminSession(c: Ctx): void {
  if (c.get('session').scope !== 'admin') {
    throw new AppError('forbidden', 'Only an admin API client may manage API clients.');
  }
}

function clientState(row: ApiClientRow): Html {
  return row.revoked_at
    ? html`<span class="badge bad">revoked</span> ${time(row.revoked_at)}`
    : html`<span class="badge ok">active</span>`;
}

/** The page that shows a secret once, after creation or rotation. */
function secretPage(c: Ctx, title: string, issued: IssuedClient, message: string): string {
  return page({
    title,
    session: c.get('session'),
    section: 'clients',
    body: html`<h1>${title}</h1>${notice('ok', message)}
<div class="panel"><p><strong>Copy the secret now: it is shown only this once.</strong></p>
<div class="field"><span>Client id</span>${copyable('client-id', issued.client_id)}</div>
<div class="field"><span>Client secret</span>${copyable('client-secret', issued.client_secret)}</div>
<p><a class="button" href="/dashboard/clients">Back to API clients</a></p></div>`,
  });
}

export function registerClientPages(dashboard: Hono<DashboardEnv>, services: Services): void {
  const { apiClients } = services;

  dashboard.use('/clients', async (c, next) => {
    requireAdminSession(c);
    await next();
  });
  dashboard.use('/clients/*', async (c, next) => {
    requireAdminSession(c);
    await next();
  });

  const listPage = async (c: Ctx, problems: string[] = []) => {
    const rows = await apiClients.list();
    const current = c.get('session').apiClientId;
    const table = html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">API clients</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Client id</th><th scope="col">Scope</th><th scope="col">State</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${rows.map(
      (row) => html`<tr>
<td data-label="Name"><strong>${row.name}</strong>${row.id === current ? html` <span class="badge info">you</span>` : ''}</td>
<td data-label="Client id"><code>${row.client_id}</code></td>
<td data-label="Scope">${row.scope}</td>
<td data-label="State">${clientState(row)}</td>
<td data-label="Created">${time(row.created_at)}</td>
<td data-label="Actions">${
        row.revoked_at
          ? ''
          : html`<div class="actions"><a href="/dashboard/clients/${row.id}/rotate" aria-label="Rotate the secret of ${row.name}">Rotate secret</a>
<a href="/dashboard/clients/${row.id}/revoke" aria-label="Revoke ${row.name}">Revoke</a></div>`
      }</td>
</tr>`,
    )}</tbody></table></div>`;
    return page({
      title: 'API clients',
      session: c.get('session'),
      section: 'clients',
      body: html`<h1>API clients</h1>
<p class="muted">Credentials of the management API and of this dashboard. A revoked client's access tokens stop working within a second; rotating a secret ends the tokens issued with the old one.</p>
${noticeFromQuery(c.req.query('notice'))}${table}
<h2>New client</h2>${errorList(problems)}
<form method="post" action="/dashboard/clients" class="panel">${csrfField(c.get('session'))}
<div class="field"><label for="name">Name</label><input type="text" id="name" name="name" required maxlength="100"></div>
<fieldset><legend>Scope</legend>
<label class="choice"><input type="radio" name="scope" value="admin" checked><span><strong>admin</strong><span class="hint">Every call, including these pages.</span></span></label>
<label class="choice"><input type="radio" name="scope" value="read"><span><strong>read</strong><span class="hint">Only reads (GET); writes answer 403.</span></span></label>
</fieldset>
<div class="actions"><button type="submit" class="primary">Create client</button></div></form>`,
    });
  };

  dashboard.get('/clients', async (c) => c.html(await listPage(c)));

  dashboard.post('/clients', async (c) => {
    const form = await readForm(c, 16 * 1024);
    const name = field(form, 'name');
    const scope = field(form, 'scope') as ClientScope;
    const problems = [
      ...(name && name.length <= 100 ? [] : ['Name: give 1–100 characters.']),
      ...(CLIENT_SCOPES.includes(scope) ? [] : ['Scope: choose admin or read.']),
    ];
    if (problems.length) return c.html(await listPage(c, problems), 400);
    const issued = await apiClients.create(name, scope);
    return c.html(secretPage(c, `API client ${name} created`, issued, 'The client was created.'), 201);
  });

  // Confirmation pages: a GET never changes anything; the POST behind them does.
  const confirmPage = (c: Ctx, row: ApiClientRow, verb: 'revoke' | 'rotate') =>
    page({
      title: verb === 'revoke' ? `Revoke ${row.name}` : `Rotate the secret of ${row.name}`,
      session: c.get('session'),
      section: 'clients',
      body: html`<h1>${verb === 'revoke' ? html`Revoke API client <code>${row.name}</code>?` : html`Rotate the secret of <code>${row.name}</code>?`}</h1>
<div class="panel"><p>${
        verb === 'revoke'
          ? 'This cannot be undone. The client gets no new access tokens, its current tokens and dashboard sessions stop working within a second.'
          : 'A new secret is issued and shown once. The old secret, every access token issued with it and its dashboard sessions stop working within a second.'
      }${row.id === c.get('session').apiClientId ? html` <strong>This is the client you are signed in with: you will be signed out.</strong>` : ''}</p>
<form method="post" action="/dashboard/clients/${row.id}/${verb}" class="actions">${csrfField(c.get('session'))}
<button type="submit" class="danger">${verb === 'revoke' ? 'Revoke' : 'Rotate secret'}</button><a class="button" href="/dashboard/clients">Cancel</a></form></div>`,
    });

  dashboard.get('/clients/:id/revoke', async (c) =>
    c.html(confirmPage(c, await apiClients.get(c.req.param('id')), 'revoke')),
  );
  dashboard.get('/clients/:id/rotate', async (c) =>
    c.html(confirmPage(c, await apiClients.get(c.req.param('id')), 'rotate')),
  );

  dashboard.post('/clients/:id/revoke', async (c) => {
    await apiClients.revoke(c.req.param('id'));
    return c.redirect('/dashboard/clients?notice=client-revoked', 303);
  });

  dashboard.post('/clients/:id/rotate', async (c) => {
    const issued = await apiClients.rotateSecret(c.req.param('id'));
    return c.html(secretPage(c, `New secret for ${issued.name}`, issued, 'The old secret no longer works.'));
  });
}
