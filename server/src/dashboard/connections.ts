import type { Context, Hono } from 'hono';
import {
  createBody,
  createConnection,
  scopesToStore,
  updateBody,
  updateConnection,
} from '../connections/connection-input.js';
import type { ConnectionRow } from '../connections/connections.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import type { ProviderDefinition } from '../providers/types.js';
import { describeIssues } from '../validation.js';
import { type FormFields, field, readForm } from './form.js';
import { type Html, html, trusted } from './html.js';
import { copyable, csrfField, errorList, noticeFromQuery, page, time } from './layout.js';
import type { DashboardEnv } from './session.js';

type Ctx = Context<DashboardEnv>;

interface ConnectionFormValues {
  name: string;
  target: 'sandbox' | 'provider';
  oauthClientId: string;
  scopes: string;
}

export function providerIcon(provider: ProviderDefinition | undefined): Html {
  // Icons are SVG markup shipped in the catalog's code, not data anyone can submit.
  return html`<span class="icon" aria-hidden="true">${provider ? trusted(provider.icon) : ''}</span>`;
}

function scopeList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function redirectUriPanel(services: Services): Html {
  return html`<section class="panel" aria-labelledby="redirect-title">
<h2 id="redirect-title">Redirect URI</h2>
<p class="hint">Register this exact URI as an authorized redirect URI of your OAuth app at the provider.</p>
${copyable('redirect-uri', services.oauth.redirectUri())}
</section>`;
}

function connectionForm(
  c: Ctx,
  options: {
    action: string;
    provider: ProviderDefinition;
    values: ConnectionFormValues;
    problems: string[];
    editing?: ConnectionRow;
    submitLabel: string;
  },
): Html {
  const { values, provider, editing } = options;
  const secretSet = editing ? editing.oauth_client_secret_enc !== null : false;
  return html`${errorList(options.problems)}
<form method="post" action="${options.action}" class="panel">
${csrfField(c.get('session'))}
<input type="hidden" name="provider" value="${provider.name}">
<div class="field"><label for="name">Name</label>
<input type="text" id="name" name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}" value="${values.name}" aria-describedby="name-hint" spellcheck="false">
<p class="hint" id="name-hint">How backends and MCP configs refer to it, e.g. <code>MY_GMAIL</code>. 1–64 letters, digits, “_” or “-”.</p></div>
<fieldset><legend>Where it signs in</legend>
<label class="choice"><input type="radio" name="target" value="sandbox"${values.target === 'sandbox' ? html` checked` : ''}>
<span><strong>Sandbox</strong><span class="hint">Switchboard's local emulator of ${provider.displayName}: seeded test users, no real accounts. The OAuth app fields may stay empty.</span></span></label>
<label class="choice"><input type="radio" name="target" value="provider"${values.target === 'provider' ? html` checked` : ''}>
<span><strong>The real ${provider.displayName}</strong><span class="hint">Needs an OAuth app registered at the provider.</span></span></label>
</fieldset>
${
  editing
    ? html`<div class="field"><label class="choice"><input type="checkbox" name="confirm_target_change" value="1" aria-describedby="switch-hint"> I understand that changing where it signs in drops every user's grant</label>
<p class="hint" id="switch-hint">Currently: <strong>${editing.target}</strong>. Switching between the sandbox and the real provider forgets the tokens of the accounts of this connection; every user consents again. Switching to the real provider needs its OAuth client id and secret below.</p></div>`
    : ''
}
<div class="field"><label for="oauth_client_id">OAuth client id</label>
<input type="text" id="oauth_client_id" name="oauth_client_id" maxlength="500" value="${values.oauthClientId}" spellcheck="false" autocomplete="off"></div>
<div class="field"><label for="oauth_client_secret">OAuth client secret</label>
<input type="password" id="oauth_client_secret" name="oauth_client_secret" maxlength="4000" autocomplete="new-password" aria-describedby="secret-hint">
<p class="hint" id="secret-hint">${
    editing
      ? secretSet
        ? 'A secret is stored (never shown). Leave empty to keep it.'
        : 'No secret is stored.'
      : 'Stored encrypted; it is never shown again.'
  }</p>
${editing && secretSet ? html`<label class="choice"><input type="checkbox" name="clear_secret" value="1"> Remove the stored secret</label>` : ''}
</div>
<div class="field"><label for="scopes">Scopes</label>
<textarea id="scopes" name="scopes" aria-describedby="scopes-hint" spellcheck="false">${values.scopes}</textarea>
<p class="hint" id="scopes-hint">One per line. Pre-filled with ${provider.displayName}'s defaults; leave empty to always request the defaults.</p></div>
<div class="actions"><button type="submit" class="primary">${options.submitLabel}</button><a class="button" href="/dashboard/connections">Cancel</a></div>
</form>`;
}

function providerHeading(provider: ProviderDefinition): Html {
  return html`<div class="card selected">${providerIcon(provider)}<div><strong>${provider.displayName}</strong><span>${provider.description}</span></div></div>`;
}

function problemsOf(error: unknown): string[] {
  if (error instanceof AppError && (error.code === 'validation_failed' || error.code === 'already_exists'))
    return [error.message];
  throw error;
}

export function registerConnectionPages(dashboard: Hono<DashboardEnv>, services: Services): void {
  const { catalog, db, config } = services;
  const connections = services.connections;

  dashboard.get('/connections', async (c) => {
    const { rows } = await connections.list({ limit: 500, offset: 0 });
    const counts = await db
      .selectFrom('connected_accounts')
      .select(['connection_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['connection_id', 'status'])
      .execute();
    const accountsOf = (id: string) => {
      const mine = counts.filter((row) => row.connection_id === id);
      const total = mine.reduce((sum, row) => sum + Number(row.n), 0);
      const active = mine.filter((row) => row.status === 'ACTIVE').reduce((sum, row) => sum + Number(row.n), 0);
      return { total, active };
    };
    const table = rows.length
      ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">Connections</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Signs in at</th><th scope="col">Scopes</th><th scope="col" class="num">Accounts</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${rows.map((row) => {
          const provider = catalog.providers.get(row.provider);
          const scopes = JSON.parse(row.scopes) as string[];
          const accounts = accountsOf(row.id);
          return html`<tr>
<td data-label="Name"><strong>${row.name}</strong></td>
<td data-label="Provider"><span class="provider-cell">${providerIcon(provider)}${provider?.displayName ?? row.provider}</span></td>
<td data-label="Signs in at">${row.target === 'sandbox' ? html`<span class="badge info">sandbox</span>` : html`<span class="badge ok">provider</span>`}</td>
<td data-label="Scopes">${scopes.length ? `${scopes.length} configured` : html`<span class="muted">provider defaults</span>`}</td>
<td data-label="Accounts" class="num">${accounts.active} active / ${accounts.total}</td>
<td data-label="Created">${time(row.created_at)}</td>
<td data-label="Actions"><div class="actions"><a href="/dashboard/connections/${row.id}/edit" aria-label="Edit ${row.name}">Edit</a>
<a href="/dashboard/connections/${row.id}/delete" aria-label="Delete ${row.name}">Delete</a></div></td>
</tr>`;
        })}</tbody></table></div>`
      : html`<div class="panel"><p>No connections yet. A connection is an OAuth app at a provider (or at the sandbox) that users sign in to.</p></div>`;
    return c.html(
      page({
        title: 'Connections',
        session: c.get('session'),
        section: 'connections',
        body: html`<div class="bar"><h1>Connections</h1><a class="button primary" href="/dashboard/connections/new">New connection</a></div>
${noticeFromQuery(c.req.query('notice'))}${table}${redirectUriPanel(services)}`,
      }),
    );
  });

  const newPage = (
    c: Ctx,
    provider: ProviderDefinition | undefined,
    values?: ConnectionFormValues,
    problems: string[] = [],
  ) => {
    const cards = html`<div class="cards" role="list">${[...catalog.providers.values()].map(
      (p) =>
        html`<a role="listitem" class="card${p === provider ? ' selected' : ''}" href="/dashboard/connections/new?provider=${encodeURIComponent(p.name)}"${
          p === provider ? html` aria-current="true"` : ''
        }>${providerIcon(p)}<div><strong>${p.displayName}</strong><span>${p.description}</span></div></a>`,
    )}</div>`;
    const form = provider
      ? connectionForm(c, {
          action: '/dashboard/connections',
          provider,
          values: values ?? {
            name: '',
            target: 'sandbox',
            oauthClientId: '',
            scopes: provider.defaultScopes.join('\n'),
          },
          problems,
          submitLabel: 'Create connection',
        })
      : html`<p class="muted">Choose a provider to continue.</p>`;
    return page({
      title: 'New connection',
      session: c.get('session'),
      section: 'connections',
      body: html`<h1>New connection</h1><h2>1. Provider</h2>${cards}${provider ? html`<h2>2. Details</h2>` : ''}${form}${redirectUriPanel(services)}`,
    });
  };

  dashboard.get('/connections/new', (c) => {
    const provider = catalog.providers.get(c.req.query('provider') ?? '');
    return c.html(newPage(c, provider));
  });

  const valuesOf = (form: FormFields): ConnectionFormValues => ({
    name: field(form, 'name'),
    target: field(form, 'target') === 'provider' ? 'provider' : 'sandbox',
    oauthClientId: field(form, 'oauth_client_id'),
    scopes: field(form, 'scopes'),
  });

  dashboard.post('/connections', async (c) => {
    const form = await readForm(c, config.maxBodyBytes);
    const provider = catalog.providers.get(field(form, 'provider'));
    const values = valuesOf(form);
    if (!provider) return c.html(newPage(c, undefined, values, ['Choose a provider.']), 400);
    const parsed = createBody.safeParse({
      name: values.name,
      provider: provider.name,
      target: values.target,
      oauth_client_id: values.oauthClientId || undefined,
      oauth_client_secret: field(form, 'oauth_client_secret') || undefined,
      scopes: scopesToStore(provider.defaultScopes, scopeList(values.scopes)),
    });
    if (!parsed.success) {
      const problems = describeIssues(parsed.error).fields.map((f) => `${f.field}: ${f.problem}`);
      return c.html(newPage(c, provider, values, problems), 400);
    }
    try {
      await createConnection(services, parsed.data);
    } catch (error) {
      return c.html(newPage(c, provider, values, problemsOf(error)), 400);
    }
    return c.redirect('/dashboard/connections?notice=connection-created', 303);
  });

  const editPage = (c: Ctx, row: ConnectionRow, values?: ConnectionFormValues, problems: string[] = []) => {
    const provider = catalog.providers.get(row.provider);
    if (!provider) throw new AppError('not_found', `provider ${row.provider} is no longer in the catalog`);
    const scopes = JSON.parse(row.scopes) as string[];
    return page({
      title: `Edit ${row.name}`,
      session: c.get('session'),
      section: 'connections',
      body: html`<h1>Edit connection <code>${row.name}</code></h1>${providerHeading(provider)}
${connectionForm(c, {
  action: `/dashboard/connections/${row.id}`,
  provider,
  editing: row,
  values: values ?? {
    name: row.name,
    target: row.target === 'provider' ? 'provider' : 'sandbox',
    oauthClientId: row.oauth_client_id,
    scopes: (scopes.length ? scopes : provider.defaultScopes).join('\n'),
  },
  problems,
  submitLabel: 'Save',
})}${redirectUriPanel(services)}`,
    });
  };

  dashboard.get('/connections/:id/edit', async (c) => c.html(editPage(c, await connections.get(c.req.param('id')))));

  dashboard.post('/connections/:id', async (c) => {
    const row = await connections.get(c.req.param('id'));
    const form = await readForm(c, config.maxBodyBytes);
    const values = valuesOf(form);
    const secret = field(form, 'oauth_client_secret');
    const confirmed = field(form, 'confirm_target_change') === '1';
    if (values.target !== row.target && !confirmed) {
      const problem = `Switching ${row.name} from ${row.target} to ${values.target} drops every user's grant: tick the confirmation box to go ahead.`;
      return c.html(editPage(c, row, values, [problem]), 400);
    }
    const parsed = updateBody.safeParse({
      name: values.name,
      target: values.target,
      confirm_target_change: confirmed,
      oauth_client_id: values.oauthClientId || undefined,
      oauth_client_secret: field(form, 'clear_secret') ? null : secret || undefined,
      // The form shows the defaults when none are configured: saving them unchanged keeps following them.
      scopes: scopesToStore(catalog.providers.get(row.provider)?.defaultScopes ?? [], scopeList(values.scopes)),
    });
    if (!parsed.success) {
      const problems = describeIssues(parsed.error).fields.map((f) => `${f.field}: ${f.problem}`);
      return c.html(editPage(c, row, values, problems), 400);
    }
    try {
      await updateConnection(services, row.id, parsed.data);
    } catch (error) {
      return c.html(editPage(c, row, values, problemsOf(error)), 400);
    }
    return c.redirect('/dashboard/connections?notice=connection-updated', 303);
  });

  dashboard.get('/connections/:id/delete', async (c) => {
    const row = await connections.get(c.req.param('id'));
    const accounts = await db
      .selectFrom('connected_accounts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('connection_id', '=', row.id)
      .executeTakeFirstOrThrow();
    const configs = await db
      .selectFrom('mcp_config_mappings as m')
      .innerJoin('mcp_configs as cfg', 'cfg.id', 'm.config_id')
      .select('cfg.name')
      .where('m.connection_id', '=', row.id)
      .execute();
    return c.html(
      page({
        title: `Delete ${row.name}`,
        session: c.get('session'),
        section: 'connections',
        body: html`<h1>Delete connection <code>${row.name}</code>?</h1>
<div class="panel"><p>This cannot be undone. It removes:</p><ul>
<li>${Number(accounts.n)} connected account(s) and their stored tokens;</li>
<li>its tool mappings in ${configs.length} MCP config(s)${configs.length ? html`: ${configs.map((cfg, i) => html`${i ? ', ' : ''}<code>${cfg.name}</code>`)}` : ''}.</li></ul>
<form method="post" action="/dashboard/connections/${row.id}/delete" class="actions">${csrfField(c.get('session'))}
<button type="submit" class="danger">Delete ${row.name}</button><a class="button" href="/dashboard/connections">Cancel</a></form></div>`,
      }),
    );
  });

  dashboard.post('/connections/:id/delete', async (c) => {
    await connections.delete(c.req.param('id'));
    return c.redirect('/dashboard/connections?notice=connection-deleted', 303);
  });
}
