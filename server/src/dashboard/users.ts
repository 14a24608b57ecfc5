import type { Context, Hono } from 'hono';
import { sql } from 'kysely';
import type { AuthLink } from '../accounts/connect-flow.js';
import type { ConnectionRow } from '../connections/connections.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { DEFAULT_INSTANCE_NAME } from '../mcp/instances.js';
import { connectionScopeNeeds } from '../mcp/scope-needs.js';
import { accountHistorySection } from './account-history.js';
import { providerIcon } from './connections.js';
import { field, readForm } from './form.js';
import { type Html, html, queryString } from './html.js';
import {
  command,
  copyable,
  csrfField,
  notice,
  noticeFromQuery,
  page,
  revocationNotice,
  statusBadge,
  statusWithReason,
  time,
} from './layout.js';
import { grantsSection } from './mcp-grants.js';
import type { DashboardEnv } from './session.js';

/** MCP Inspector's CLI swaps any path not ending in /mcp for /mcp, dropping the URL's secret (see mcp-endpoint/endpoint.ts). */
const INSPECTOR_NOTE = html`<p class="muted">MCP clients take the URL as it is (transport: Streamable HTTP). For MCP Inspector's CLI, add <code>/mcp</code> at its end.</p>`;

type Ctx = Context<DashboardEnv>;

const userHref = (identifier: string) => `/dashboard/user${queryString({ identifier })}`;

/** `%text%` for LIKE, with LIKE's own wildcards in `text` taken literally. */
function contains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

export function registerUserPages(dashboard: Hono<DashboardEnv>, services: Services): void {
  const { db, accounts, catalog, config } = services;

  dashboard.get('/users', async (c) => {
    const q = (c.req.query('q') ?? '').trim().slice(0, 256);
    let fromAccounts = db
      .selectFrom('connected_accounts')
      .select(['identifier', sql<string>`max(updated_at)`.as('seen')]);
    let fromInstances = db
      .selectFrom('mcp_instances')
      .select(['user_identifier as identifier', sql<string>`max(updated_at)`.as('seen')]);
    if (q) {
      fromAccounts = fromAccounts.where(sql<boolean>`identifier like ${contains(q)} escape '\\'`);
      fromInstances = fromInstances.where(sql<boolean>`user_identifier like ${contains(q)} escape '\\'`);
    }
    const [accountRows, instanceRows] = await Promise.all([
      fromAccounts.groupBy('identifier').orderBy('seen', 'desc').limit(200).execute(),
      fromInstances.groupBy('user_identifier').orderBy('seen', 'desc').limit(200).execute(),
    ]);
    const users = new Map<string, string>();
    for (const row of [...accountRows, ...instanceRows]) {
      const seen = users.get(row.identifier);
      if (!seen || seen < row.seen) users.set(row.identifier, row.seen);
    }
    const identifiers = [...users.entries()].sort((a, b) => b[1].localeCompare(a[1])).slice(0, 200);
    const statuses = identifiers.length
      ? await db
          .selectFrom('connected_accounts')
          .select(['identifier', 'status', (eb) => eb.fn.countAll<number>().as('n')])
          .where(
            'identifier',
            'in',
            identifiers.map(([identifier]) => identifier),
          )
          .groupBy(['identifier', 'status'])
          .execute()
      : [];
    const table = identifiers.length
      ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">Users</caption>
<thead><tr><th scope="col">User identifier</th><th scope="col">Connected accounts</th><th scope="col">Last change</th></tr></thead>
<tbody>${identifiers.map(
          ([
            identifier,
            seen,
          ]) => html`<tr><td data-label="User"><a href="${userHref(identifier)}"><code>${identifier}</code></a></td>
<td data-label="Accounts">${statuses
            .filter((row) => row.identifier === identifier)
            .map((row) => html`${statusBadge(row.status)} ×${Number(row.n)} `)}</td>
<td data-label="Last change">${time(seen)}</td></tr>`,
        )}</tbody></table></div>`
      : html`<div class="panel"><p>${q ? 'No user matches.' : 'No users yet: they appear with their first connected account or MCP instance.'}</p></div>`;
    return c.html(
      page({
        title: 'Users',
        session: c.get('session'),
        section: 'users',
        body: html`<h1>Users and instances</h1>
<form method="get" action="/dashboard/users" role="search" class="panel"><label for="q">Search by user identifier</label>
<div class="actions"><input type="search" id="q" name="q" value="${q}" placeholder="e.g. john-doe"><button type="submit">Search</button></div></form>
${table}
<form method="get" action="/dashboard/user" class="panel"><label for="open-identifier">Open a user by exact identifier</label>
<p class="hint">Works for users who have nothing yet, e.g. to send a first authentication link.</p>
<div class="actions"><input type="text" id="open-identifier" name="identifier" required maxlength="256"><button type="submit">Open</button></div></form>`,
      }),
    );
  });

  const userPage = async (c: Ctx, identifier: string, extra?: Html) => {
    const [{ rows: accountRows }, { rows: instances }, { rows: connections }, { rows: configs }] = await Promise.all([
      accounts.list({ identifier, limit: 500, offset: 0 }),
      services.mcpInstances.list({ userIdentifier: identifier, limit: 500, offset: 0 }),
      services.connections.list({ limit: 500, offset: 0 }),
      services.mcpConfigs.list({ limit: 500, offset: 0 }),
    ]);
    const session = c.get('session');
    const linked = new Set(accountRows.map((row) => row.connection_id));
    // An ACTIVE account short of a scope its user's configs need: named, and its link asks for them.
    const connectionScopes = new Map(connections.map((row) => [row.id, JSON.parse(row.scopes) as string[]]));
    const missingOf = (row: { connection_id: string; status: string; granted_scopes: string }) =>
      row.status === 'ACTIVE'
        ? connectionScopeNeeds(
            catalog,
            instances.flatMap(({ config: cfg }) => cfg.mappings.filter((m) => m.connection_id === row.connection_id)),
            connectionScopes.get(row.connection_id) ?? [],
            JSON.parse(row.granted_scopes) as string[],
          ).missing
        : [];
    const unlinked = connections.filter((row) => !linked.has(row.id));
    const accountsTable = accountRows.length
      ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">Connected accounts of ${identifier}</caption>
<thead><tr><th scope="col">Connection</th><th scope="col">Status</th><th scope="col">Provider account</th><th scope="col">Last used</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${accountRows.map((row) => {
          const provider = catalog.providers.get(row.c_provider);
          const missing = missingOf(row);
          return html`<tr>
<td data-label="Connection"><span class="provider-cell">${providerIcon(provider)}<strong>${row.c_name}</strong></span></td>
<td data-label="Status">${statusWithReason(row.status, row.status_reason)}${
            missing.length
              ? html` <span class="badge warn">needs re-authorization</span><div class="hint scope-needs">missing ${missing.map((scope) => html`<code>${scope}</code> `)}</div>`
              : ''
          }</td>
<td data-label="Account"><span class="email">${row.provider_account ?? '—'}</span></td>
<td data-label="Last used">${time(row.last_used_at)}</td>
<td data-label="Updated">${time(row.updated_at)}</td>
<td data-label="Actions"><div class="actions">
<form method="post" action="/dashboard/user/auth-link" class="inline">${csrfField(session)}
<input type="hidden" name="identifier" value="${identifier}"><input type="hidden" name="connection_id" value="${row.connection_id}">
<button type="submit" aria-label="Create an authentication link for ${row.c_name}">Authentication link</button></form>
${
  row.status !== 'DISCONNECTED'
    ? html`<form method="post" action="/dashboard/user/disconnect" class="inline" data-confirm="Disconnect ${row.c_name} for ${identifier}? The grant is revoked and the tokens are forgotten.">${csrfField(session)}
<input type="hidden" name="account_id" value="${row.id}"><button type="submit" class="danger" aria-label="Disconnect ${row.c_name}">Disconnect</button></form>`
    : ''
}
<a class="button" href="/dashboard/user/accounts/${row.id}/delete" aria-label="Delete the account of ${row.c_name}">Delete</a></div></td></tr>`;
        })}</tbody></table></div>`
      : html`<p class="muted">No connected accounts.</p>`;
    const connectForm = unlinked.length
      ? html`<form method="post" action="/dashboard/user/auth-link" class="panel">${csrfField(session)}
<input type="hidden" name="identifier" value="${identifier}">
<label for="connect-connection">Connect another connection</label>
<div class="actions"><select id="connect-connection" name="connection_id">${unlinked.map(
          (row) =>
            html`<option value="${row.id}">${row.name} (${catalog.providers.get(row.provider)?.displayName ?? row.provider})</option>`,
        )}</select><button type="submit">Create authentication link</button></div></form>`
      : '';
    const instancesTable = instances.length
      ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">MCP instances of ${identifier}</caption>
<thead><tr><th scope="col">Config</th><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Last used</th></tr></thead>
<tbody>${instances.map(
          ({ row, config: cfg }) => html`<tr>
<td data-label="Config"><a href="/dashboard/mcp-configs/${cfg.id}">${cfg.name}</a></td>
<td data-label="Name">${row.name}</td>
<td data-label="URL"><div class="copy"><code id="url-${row.id}" hidden></code><button type="button" data-copy="url-${row.id}" hidden>Copy</button></div>
<div class="actions">
<form method="post" action="/dashboard/instances/${row.id}/reveal" class="inline" data-reveal="url-${row.id}">${csrfField(session)}<button type="submit" aria-label="Reveal the URL of instance ${row.name} of ${cfg.name}">Reveal URL</button></form>
<form method="post" action="/dashboard/instances/${row.id}/rotate" class="inline" data-reveal="url-${row.id}" data-confirm="Issue a new URL? The current URL stops working at once.">${csrfField(session)}<button type="submit" aria-label="Rotate the URL of instance ${row.name} of ${cfg.name}">Rotate URL</button></form>
</div></td>
<td data-label="Last used">${time(row.last_used_at)}</td></tr>`,
        )}</tbody></table></div>${INSPECTOR_NOTE}`
      : html`<p class="muted">No MCP instances. A backend creates them with ${command('POST /api/v1/mcp/instances')} (config_name, user_identifier), or create one here.</p>`;
    const instanceForm = configs.length
      ? html`<form method="post" action="/dashboard/user/instances" class="panel">${csrfField(session)}
<input type="hidden" name="identifier" value="${identifier}">
<h3>Create an MCP instance</h3>
<div class="filters"><div class="field"><label for="instance-config">MCP config</label><select id="instance-config" name="config_name">${configs.map(
          (cfg) => html`<option value="${cfg.name}">${cfg.name}</option>`,
        )}</select></div>
<div class="field"><label for="instance-name">Instance name</label><input type="text" id="instance-name" name="name" maxlength="100" placeholder="${DEFAULT_INSTANCE_NAME}" spellcheck="false"></div>
<div class="actions"><button type="submit">Create instance</button></div></div>
<p class="hint">Its URL is shown once created; an instance of that config and name that exists already is shown instead.</p></form>`
      : html`<p class="muted">Create an <a href="/dashboard/mcp-configs">MCP config</a> first to give this user an instance.</p>`;
    return page({
      title: `User ${identifier}`,
      session,
      section: 'users',
      body: html`<p><a href="/dashboard/users">← Users</a></p><h1>User <code>${identifier}</code></h1>
${noticeFromQuery(c.req.query('notice'))}${extra ?? ''}
<section aria-labelledby="accounts-title"><h2 id="accounts-title">Connected accounts</h2>${accountsTable}${connectForm}</section>
<section aria-labelledby="instances-title"><h2 id="instances-title">MCP instances</h2>${instancesTable}${instanceForm}</section>
${await grantsSection(services, session, identifier)}
${await accountHistorySection(services, identifier, accountRows)}`,
    });
  };

  const identifierOf = (value: string) => {
    const identifier = value.trim();
    if (!identifier || identifier.length > 256)
      throw new AppError('validation_failed', 'give a user identifier of 1–256 characters');
    return identifier;
  };

  dashboard.get('/user', async (c) => c.html(await userPage(c, identifierOf(c.req.query('identifier') ?? ''))));

  dashboard.post('/user/auth-link', async (c) => {
    const form = await readForm(c, config.maxBodyBytes);
    const identifier = identifierOf(field(form, 'identifier'));
    const connection: ConnectionRow = await services.connections.get(field(form, 'connection_id'));
    // The link asks for what this user's configs need of the connection too (incremental authorization).
    const { rows: instances } = await services.mcpInstances.list({ userIdentifier: identifier, limit: 500, offset: 0 });
    const { extra } = connectionScopeNeeds(
      catalog,
      instances.flatMap(({ config: cfg }) => cfg.mappings.filter((m) => m.connection_id === connection.id)),
      JSON.parse(connection.scopes) as string[],
    );
    const link: AuthLink = await services.connectFlow.authLink(connection, identifier, {
      source: 'dashboard',
      extraScopes: extra,
    });
    const panel = notice(
      'ok',
      html`<p><strong>Authentication link for ${connection.name}</strong>: send it to ${identifier}. It expires ${time(link.expiry)}.</p>
${copyable('auth-link', link.link, 'Copy link')}
<p><a href="${link.link}" target="_blank" rel="noopener noreferrer">Open the link</a> <span class="hint">(only to connect an account of your own)</span></p>`,
    );
    return c.html(await userPage(c, identifier, panel));
  });

  dashboard.post('/user/disconnect', async (c) => {
    const form = await readForm(c, config.maxBodyBytes);
    const { account, revocation } = await accounts.disconnect({ id: field(form, 'account_id') });
    return c.redirect(`${userHref(account.identifier)}&notice=${revocationNotice('disconnected', revocation)}`, 303);
  });

  dashboard.get('/user/accounts/:id/delete', async (c) => {
    const { account, connection } = await accounts.get({ id: c.req.param('id') });
    return c.html(
      page({
        title: `Delete an account of ${account.identifier}`,
        session: c.get('session'),
        section: 'users',
        body: html`<h1>Delete the ${connection.name} account of <code>${account.identifier}</code>?</h1>
<div class="panel"><p>This cannot be undone. The grant is revoked at the provider${account.provider_account ? html` (<span class="email">${account.provider_account}</span>)` : ''}, the tokens are forgotten and the account is removed; its history stays. Tools of this connection fail for this user until they connect again through a new authentication link.</p>
<form method="post" action="/dashboard/user/accounts/${account.id}/delete" class="actions">${csrfField(c.get('session'))}
<button type="submit" class="danger">Delete the account</button><a class="button" href="${userHref(account.identifier)}">Cancel</a></form></div>`,
      }),
    );
  });

  dashboard.post('/user/accounts/:id/delete', async (c) => {
    const { account } = await accounts.get({ id: c.req.param('id') });
    const revocation = await accounts.delete({ id: account.id });
    return c.redirect(`${userHref(account.identifier)}&notice=${revocationNotice('account-deleted', revocation)}`, 303);
  });

  dashboard.post('/user/instances', async (c) => {
    const form = await readForm(c, config.maxBodyBytes);
    const identifier = identifierOf(field(form, 'identifier'));
    const name = field(form, 'name') || DEFAULT_INSTANCE_NAME;
    if (name.length > 100) throw new AppError('validation_failed', 'an instance name has at most 100 characters');
    const {
      row,
      config: cfg,
      created,
    } = await services.mcpInstances.ensure({
      configName: field(form, 'config_name'),
      userIdentifier: identifier,
      name,
    });
    const panel = notice(
      'ok',
      html`<p><strong>${created ? 'Created instance' : 'Instance'} ${row.name} of ${cfg.name}</strong>${created ? '' : ' (it existed already)'}. Its URL; treat it as a password:</p>${copyable('instance-url', services.mcpInstances.url(row))}${INSPECTOR_NOTE}`,
    );
    return c.html(await userPage(c, identifier, panel), created ? 201 : 200);
  });

  const instanceAction = (rotate: boolean) => async (c: Ctx) => {
    const { row, config: cfg } = rotate
      ? await services.mcpInstances.rotateUrl(c.req.param('id') ?? '')
      : await services.mcpInstances.get(c.req.param('id') ?? '');
    const url = services.mcpInstances.url(row);
    if ((c.req.header('accept') ?? '').includes('application/json')) {
      return c.json({ url, rotated: rotate }, 200, { 'cache-control': 'no-store' });
    }
    const panel = notice(
      'ok',
      html`<p><strong>${rotate ? 'New URL' : 'URL'} of instance ${row.name} of ${cfg.name}</strong>${rotate ? ' (the old one no longer works)' : ''}. Treat it as a password.</p>${copyable('instance-url', url)}${INSPECTOR_NOTE}`,
    );
    return c.html(await userPage(c, row.user_identifier, panel));
  };
  dashboard.post('/instances/:id/reveal', instanceAction(false));
  dashboard.post('/instances/:id/rotate', instanceAction(true));
}
