import type { Context, Hono } from 'hono';
import type { ConnectionRow } from '../connections/connections.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import {
  CONFIG_NAME_PATTERN,
  type ConfigDetail,
  configServerUrl,
  MAX_MAPPINGS,
  type MappingInput,
} from '../mcp/configs.js';
import { scopeNeeds } from '../mcp/scope-needs.js';
import type { ToolDefinition } from '../providers/types.js';
import { providerIcon } from './connections.js';
import { type FormFields, field, fieldList, readForm } from './form.js';
import { type Html, html } from './html.js';
import { command, copyable, csrfField, errorList, noticeFromQuery, page, time } from './layout.js';
import type { DashboardEnv } from './session.js';

type Ctx = Context<DashboardEnv>;

/** Per connection: left out, every tool (also tools added later), or the ticked ones. */
type Mode = 'none' | 'all' | 'selected';

interface ConfigFormValues {
  name: string;
  description: string;
  /** connection id → mode and ticked tools */
  picks: Map<string, { mode: Mode; tools: Set<string> }>;
}

function hintBadges(tool: ToolDefinition): Html {
  const a = tool.annotations;
  return html`${a.readOnlyHint ? html`<span class="badge ok">read-only</span>` : ''}${
    a.destructiveHint ? html`<span class="badge bad">destructive</span>` : ''
  }${!a.readOnlyHint && !a.destructiveHint ? html`<span class="badge warn">writes</span>` : ''}`;
}

function shortDescription(text: string): string {
  const first = text.split(/(?<=\.)\s/)[0] ?? text;
  return first.length > 220 ? `${first.slice(0, 217)}…` : first;
}

function valuesFromDetail(detail: ConfigDetail): ConfigFormValues {
  return {
    name: detail.name,
    description: detail.description,
    picks: new Map(
      detail.mappings.map((m) => [
        m.connection_id,
        { mode: m.tools.length ? 'selected' : 'all', tools: new Set(m.tools) },
      ]),
    ),
  };
}

function valuesFromForm(form: FormFields, connections: ConnectionRow[]): ConfigFormValues {
  const picks = new Map<string, { mode: Mode; tools: Set<string> }>();
  for (const connection of connections) {
    const tools = new Set(fieldList(form, `tools-${connection.id}`));
    const chosen = field(form, `mode-${connection.id}`);
    // Ticking tools under a connection left out means the admin wants them: include it.
    const mode: Mode = chosen === 'all' ? 'all' : chosen === 'selected' || tools.size ? 'selected' : 'none';
    picks.set(connection.id, { mode, tools });
  }
  return { name: field(form, 'name').toLowerCase(), description: field(form, 'description'), picks };
}

export function registerMcpConfigPages(dashboard: Hono<DashboardEnv>, services: Services): void {
  const { catalog, config, db } = services;
  const connectionsService = services.connections;

  const allConnections = async () => (await connectionsService.list({ limit: 500, offset: 0 })).rows;

  const toolPicker = (connection: ConnectionRow, pick: { mode: Mode; tools: Set<string> } | undefined): Html => {
    const provider = catalog.providers.get(connection.provider);
    const mode = pick?.mode ?? 'none';
    const id = connection.id;
    const tools = provider?.tools ?? [];
    return html`<fieldset data-tool-picker>
<legend><span class="provider-cell">${providerIcon(provider)}${connection.name}</span></legend>
<div class="actions" role="radiogroup" aria-label="Tools of ${connection.name}">
<label class="choice"><input type="radio" name="mode-${id}" value="none"${mode === 'none' ? html` checked` : ''}> Not included</label>
<label class="choice"><input type="radio" name="mode-${id}" value="selected"${mode === 'selected' ? html` checked` : ''}> Selected tools</label>
<label class="choice"><input type="radio" name="mode-${id}" value="all"${mode === 'all' ? html` checked` : ''}> All ${tools.length} tools, and tools added later</label>
</div>
<div class="tool-tools" hidden>
<label class="visually-hidden" for="search-${id}">Search the tools of ${connection.name}</label>
<input type="search" id="search-${id}" placeholder="Search ${tools.length} tools">
<button type="button" data-select-all>Select all shown</button><button type="button" data-select-none>Clear shown</button>
<span class="hint" data-count aria-live="polite"></span>
</div>
<ul class="tool-list">${tools.map(
      (tool) => html`<li data-search="${`${tool.name} ${tool.description}`.toLowerCase()}"><label>
<input type="checkbox" name="tools-${id}" value="${tool.name}" aria-describedby="desc-${id}-${tool.name}"${pick?.tools.has(tool.name) ? html` checked` : ''}>
<span><span class="name">${tool.name}</span> ${hintBadges(tool)}</span></label>
<span class="desc" id="desc-${id}-${tool.name}">${shortDescription(tool.description)}</span></li>`,
    )}</ul>
</fieldset>`;
  };

  /** What each mapping's tools need of its connection's grant, the scopes beyond the connection's marked. */
  const scopeNeedsPanel = (existing: ConfigDetail, connections: ConnectionRow[]): Html | string => {
    if (!existing.mappings.length) return '';
    const byId = new Map(connections.map((row) => [row.id, row]));
    return html`<section class="panel" aria-labelledby="scopes-title"><h2 id="scopes-title">Scopes needed</h2>
<p class="hint">A user's consent through this config asks for these. Scopes beyond the connection's are requested with the ones granted before (incremental authorization); an account granted before they were needed shows as needing re-authorization in the auth state.</p>
<dl class="scope-needs">${existing.mappings.map((mapping) => {
      const connection = byId.get(mapping.connection_id);
      const needs = scopeNeeds(catalog, mapping, connection ? (JSON.parse(connection.scopes) as string[]) : []);
      return html`<dt>${mapping.connection_name}</dt><dd><ul>${needs.required.map(
        (scope) =>
          html`<li><code>${scope}</code>${needs.extra.includes(scope) ? html` <span class="badge warn">beyond the connection's scopes</span>` : ''}</li>`,
      )}</ul></dd>`;
    })}</dl></section>`;
  };

  const formPage = async (
    c: Ctx,
    options: { existing?: ConfigDetail; values: ConfigFormValues; problems: string[] },
  ): Promise<string> => {
    const connections = await allConnections();
    const { existing, values } = options;
    const session = c.get('session');
    const action = existing ? `/dashboard/mcp-configs/${existing.id}` : '/dashboard/mcp-configs';
    const serverUrl = existing
      ? html`<section class="panel" aria-labelledby="url-title"><h2 id="url-title">Server URL</h2>
<p class="hint">MCP clients reach this config here with a session token minted for a user (${command('POST /api/v1/mcp/configs/{id}/tokens')}); per-user instance URLs are on each user's page.</p>
${copyable('server-url', configServerUrl(config.publicUrl, existing.id))}</section>`
      : '';
    return page({
      title: existing ? `MCP config ${existing.name}` : 'New MCP config',
      session,
      section: 'mcp',
      body: html`<p><a href="/dashboard/mcp-configs">← MCP configs</a></p>
<h1>${existing ? html`MCP config <code>${existing.name}</code>` : 'New MCP config'}</h1>
${noticeFromQuery(c.req.query('notice'))}${serverUrl}${existing ? scopeNeedsPanel(existing, connections) : ''}${errorList(options.problems)}
<form method="post" action="${action}" class="panel">${csrfField(session)}
${
  existing
    ? ''
    : html`<div class="field"><label for="name">Name</label>
<input type="text" id="name" name="name" required maxlength="100" pattern="[a-z0-9_\\-]{1,100}" value="${values.name}" aria-describedby="name-hint" spellcheck="false">
<p class="hint" id="name-hint">e.g. <code>reminder-manager</code>: lowercase letters, digits, “_” or “-”. It cannot change later.</p></div>`
}
<div class="field"><label for="description">Description</label>
<input type="text" id="description" name="description" maxlength="2000" value="${values.description}"></div>
<h2>Tools per connection</h2>
${connections.length ? connections.map((connection) => toolPicker(connection, values.picks.get(connection.id))) : html`<p>Create a <a href="/dashboard/connections/new">connection</a> first.</p>`}
<div class="actions"><button type="submit" class="primary">${existing ? 'Save' : 'Create MCP config'}</button>
<a class="button" href="/dashboard/mcp-configs">Cancel</a>${existing ? html`<a class="button" href="/dashboard/mcp-configs/${existing.id}/delete">Delete…</a>` : ''}</div>
</form>`,
    });
  };

  /** The form's picks as the service's mapping inputs, plus the problems the form alone shows. */
  const mappingsOf = (values: ConfigFormValues, connections: ConnectionRow[]) => {
    const problems: string[] = [];
    const mappings: MappingInput[] = [];
    for (const connection of connections) {
      const pick = values.picks.get(connection.id);
      if (!pick || pick.mode === 'none') continue;
      if (pick.mode === 'selected' && pick.tools.size === 0) {
        problems.push(`${connection.name}: tick at least one tool, choose “All tools”, or leave it out`);
        continue;
      }
      mappings.push({ connectionName: connection.name, tools: pick.mode === 'all' ? [] : [...pick.tools] });
    }
    if (mappings.length > MAX_MAPPINGS) problems.push(`at most ${MAX_MAPPINGS} connections per config`);
    if (values.description.length > 2000) problems.push('description: at most 2000 characters');
    return { mappings, problems };
  };

  const problemsOf = (error: unknown): string[] => {
    if (error instanceof AppError && (error.code === 'validation_failed' || error.code === 'already_exists'))
      return [error.message];
    throw error;
  };

  dashboard.get('/mcp-configs', async (c) => {
    const { rows } = await services.mcpConfigs.list({ limit: 500, offset: 0 });
    const counts = await db
      .selectFrom('mcp_instances')
      .select(['config_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('config_id')
      .execute();
    const instancesOf = (id: string) => Number(counts.find((row) => row.config_id === id)?.n ?? 0);
    const table = rows.length
      ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">MCP configs</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Connections and tools</th><th scope="col" class="num">Instances</th><th scope="col">Updated</th></tr></thead>
<tbody>${rows.map(
          (detail) => html`<tr>
<td data-label="Name"><a href="/dashboard/mcp-configs/${detail.id}"><strong>${detail.name}</strong></a>${detail.description ? html`<div class="hint">${detail.description}</div>` : ''}</td>
<td data-label="Tools">${detail.mappings.length ? detail.mappings.map((m) => html`<div><strong>${m.connection_name}</strong>: ${m.tools.length ? m.tools.map((t, i) => html`${i ? ', ' : ''}<code>${t}</code>`) : html`<span class="muted">all tools</span>`}</div>`) : html`<span class="muted">no tools</span>`}</td>
<td data-label="Instances" class="num">${instancesOf(detail.id)}</td>
<td data-label="Updated">${time(detail.updated_at)}</td></tr>`,
        )}</tbody></table></div>`
      : html`<div class="panel"><p>No MCP configs yet. A config lists, per connection, the tools an MCP client sees.</p></div>`;
    return c.html(
      page({
        title: 'MCP configs',
        session: c.get('session'),
        section: 'mcp',
        body: html`<div class="bar"><h1>MCP configs</h1><a class="button primary" href="/dashboard/mcp-configs/new">New MCP config</a></div>
${noticeFromQuery(c.req.query('notice'))}${table}`,
      }),
    );
  });

  dashboard.get('/mcp-configs/new', async (c) =>
    c.html(await formPage(c, { values: { name: '', description: '', picks: new Map() }, problems: [] })),
  );

  dashboard.post('/mcp-configs', async (c) => {
    const form = await readForm(c, config.maxBodyBytes);
    const connections = await allConnections();
    const values = valuesFromForm(form, connections);
    const { mappings, problems } = mappingsOf(values, connections);
    if (!CONFIG_NAME_PATTERN.test(values.name))
      problems.unshift('name: use 1–100 lowercase letters, digits, "_" or "-"');
    if (problems.length) return c.html(await formPage(c, { values, problems }), 400);
    let created: ConfigDetail;
    try {
      created = await services.mcpConfigs.create({ name: values.name, description: values.description, mappings });
    } catch (error) {
      return c.html(await formPage(c, { values, problems: problemsOf(error) }), 400);
    }
    return c.redirect(`/dashboard/mcp-configs/${created.id}?notice=config-created`, 303);
  });

  dashboard.get('/mcp-configs/:id', async (c) => {
    const existing = await services.mcpConfigs.get(c.req.param('id'));
    return c.html(await formPage(c, { existing, values: valuesFromDetail(existing), problems: [] }));
  });

  dashboard.post('/mcp-configs/:id', async (c) => {
    const existing = await services.mcpConfigs.get(c.req.param('id'));
    const form = await readForm(c, config.maxBodyBytes);
    const connections = await allConnections();
    const values = { ...valuesFromForm(form, connections), name: existing.name };
    const { mappings, problems } = mappingsOf(values, connections);
    if (problems.length) return c.html(await formPage(c, { existing, values, problems }), 400);
    try {
      await services.mcpConfigs.update(existing.id, { description: values.description, mappings });
    } catch (error) {
      return c.html(await formPage(c, { existing, values, problems: problemsOf(error) }), 400);
    }
    return c.redirect(`/dashboard/mcp-configs/${existing.id}?notice=config-updated`, 303);
  });

  dashboard.get('/mcp-configs/:id/delete', async (c) => {
    const existing = await services.mcpConfigs.get(c.req.param('id'));
    const { total } = await services.mcpInstances.list({ configName: existing.name, limit: 1, offset: 0 });
    return c.html(
      page({
        title: `Delete ${existing.name}`,
        session: c.get('session'),
        section: 'mcp',
        body: html`<h1>Delete MCP config <code>${existing.name}</code>?</h1>
<div class="panel"><p>This cannot be undone. Its ${total} instance URL(s) stop working at once. Connected accounts are kept.</p>
<form method="post" action="/dashboard/mcp-configs/${existing.id}/delete" class="actions">${csrfField(c.get('session'))}
<button type="submit" class="danger">Delete ${existing.name}</button><a class="button" href="/dashboard/mcp-configs/${existing.id}">Cancel</a></form></div>`,
      }),
    );
  });

  dashboard.post('/mcp-configs/:id/delete', async (c) => {
    await services.mcpConfigs.delete(c.req.param('id'));
    return c.redirect('/dashboard/mcp-configs?notice=config-deleted', 303);
  });
}
