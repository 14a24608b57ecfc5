import type { Hono } from 'hono';
import type { Services } from '../context.js';
import { field, readForm } from './form.js';
import { type Html, html, queryString } from './html.js';
import { csrfField, time } from './layout.js';
import type { DashboardEnv, DashboardSession } from './session.js';

/**
 * The MCP clients a user signed in to (OAuth grants), on the user's page: client, config,
 * when granted and last used, and a revoke button that ends the grant's refresh and access
 * tokens (on every replica within a second).
 */
export async function grantsSection(services: Services, session: DashboardSession, identifier: string): Promise<Html> {
  const grants = await services.mcpAuthorizationServer.listGrants({ identifier });
  const configs = grants.length
    ? await services.mcpConfigs.details([...new Set(grants.map((g) => g.config_id))])
    : new Map();
  const table = grants.length
    ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">MCP clients signed in as ${identifier}</caption>
<thead><tr><th scope="col">Client</th><th scope="col">Config</th><th scope="col">Granted</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${grants.map(
        (grant) => html`<tr>
<td data-label="Client">${grant.client_name}<br><small class="muted">${grant.client_id}</small></td>
<td data-label="Config"><a href="/dashboard/mcp-configs/${grant.config_id}">${configs.get(grant.config_id)?.name ?? grant.config_id}</a></td>
<td data-label="Granted">${time(grant.created_at)}</td>
<td data-label="Last used">${time(grant.last_used_at)}</td>
<td data-label="Actions"><form method="post" action="/dashboard/mcp-grants/revoke" class="inline" data-confirm="Revoke ${grant.client_name}'s access for ${identifier}? It must sign in again.">${csrfField(session)}
<input type="hidden" name="grant_id" value="${grant.id}"><button type="submit" aria-label="Revoke ${grant.client_name}">Revoke</button></form></td></tr>`,
      )}</tbody></table></div>`
    : html`<p class="muted">No MCP client is signed in as this user. Clients such as Claude or Cursor sign in at a config's URL.</p>`;
  return html`<section aria-labelledby="grants-title"><h2 id="grants-title">MCP clients signed in</h2>${table}</section>`;
}

export function registerGrantPages(dashboard: Hono<DashboardEnv>, services: Services): void {
  dashboard.post('/mcp-grants/revoke', async (c) => {
    const form = await readForm(c, services.config.maxBodyBytes);
    const grant = await services.mcpAuthorizationServer.getGrant(field(form, 'grant_id'));
    await services.mcpAuthorizationServer.revokeGrant(grant.id, 'revoked_in_dashboard');
    return c.redirect(`/dashboard/user${queryString({ identifier: grant.identifier, notice: 'grant-revoked' })}`, 303);
  });
}
