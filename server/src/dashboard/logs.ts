import type { Hono } from 'hono';
import type { Services } from '../context.js';
import { toolNameCondition } from '../execution/call-log.js';
import { bucketize, callsChart } from './chart.js';
import { html, queryString } from './html.js';
import { page, statusBadge, time } from './layout.js';
import type { DashboardEnv } from './session.js';

/** The redacted argument summary of a call, folded away under its tool name. */
function callArguments(summary: string | null) {
  if (!summary || summary === '{}') return '';
  return html`<details><summary class="hint">Arguments</summary><code>${summary}</code></details>`;
}

const RANGES = {
  '1h': { label: 'Last hour', ms: 60 * 60_000, buckets: 12, shortLabels: true },
  '24h': { label: 'Last 24 hours', ms: 24 * 60 * 60_000, buckets: 24, shortLabels: true },
  '7d': { label: 'Last 7 days', ms: 7 * 24 * 60 * 60_000, buckets: 28, shortLabels: false },
  '30d': { label: 'Last 30 days', ms: 30 * 24 * 60 * 60_000, buckets: 30, shortLabels: false },
} as const;
type RangeKey = keyof typeof RANGES;

const PAGE_SIZE = 50;
/** The statuses a call can end in; the filter accepts nothing else. */
const STATUSES = ['SUCCESS', 'FAILED'] as const;
/** How the tool filter matches; a partial name (`gmail_`, `label`) is what people type. */
const TOOL_MATCHES = ['contains', 'prefix', 'exact'] as const;
/** The chart reads at most this many rows; beyond it the table still pages through all. */
const CHART_ROWS = 50_000;

export function registerLogPages(dashboard: Hono<DashboardEnv>, services: Services): void {
  const { db, clock, callLog } = services;

  dashboard.get('/logs', async (c) => {
    await callLog.flush();
    const rangeParam = c.req.query('range') ?? '24h';
    const range: RangeKey = rangeParam in RANGES ? (rangeParam as RangeKey) : '24h';
    const spec = RANGES[range];
    const filters = {
      tool: (c.req.query('tool') ?? '').trim().slice(0, 200),
      match: TOOL_MATCHES.find((match) => match === c.req.query('match')) ?? ('contains' as const),
      execution: (c.req.query('execution') ?? '').trim().slice(0, 100),
      connection: (c.req.query('connection') ?? '').trim().slice(0, 100),
      user: (c.req.query('user') ?? '').trim().slice(0, 256),
      status: STATUSES.find((status) => status === c.req.query('status')) ?? ('' as const),
    };
    const pageNumber = Math.max(1, Math.min(10_000, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
    const to = clock.now();
    const from = to - spec.ms;

    let query = db.selectFrom('tool_call_logs').where('created_at', '>=', new Date(from).toISOString());
    if (filters.tool) query = query.where(toolNameCondition(filters.match, filters.tool));
    if (filters.execution) query = query.where('execution_id', '=', filters.execution);
    if (filters.connection) query = query.where('connection_name', '=', filters.connection);
    if (filters.user) query = query.where('identifier', '=', filters.user);
    if (filters.status) query = query.where('status', '=', filters.status);

    const [rows, total, points, connectionNames, toolNames] = await Promise.all([
      query
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(PAGE_SIZE)
        .offset((pageNumber - 1) * PAGE_SIZE)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      query.select(['created_at', 'status']).orderBy('created_at', 'desc').limit(CHART_ROWS).execute(),
      db.selectFrom('connections').select('name').orderBy('name').execute(),
      db.selectFrom('tool_call_logs').select('tool_name').distinct().orderBy('tool_name').limit(500).execute(),
    ]);
    const count = Number(total.n);
    const buckets = bucketize(
      points.map((p) => ({ at: Date.parse(p.created_at), failed: p.status !== 'SUCCESS' })),
      from,
      to,
      spec.buckets,
    );
    const link = (pageTo: number) => `/dashboard/logs${queryString({ range, ...filters, page: pageTo })}`;
    const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));

    const table = rows.length
      ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">Tool calls, newest first</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Tool</th><th scope="col">Connection</th><th scope="col">User</th><th scope="col">Source</th><th scope="col">Status</th><th scope="col">Error</th><th scope="col" class="num">Duration</th><th scope="col">Execution id</th></tr></thead>
<tbody>${rows.map(
          (row) => html`<tr>
<td data-label="Time">${time(row.created_at)}</td>
<td data-label="Tool"><code>${row.tool_name}</code>${callArguments(row.argument_summary)}</td>
<td data-label="Connection">${row.connection_name ?? '—'}</td>
<td data-label="User">${row.identifier ? html`<a href="/dashboard/user${queryString({ identifier: row.identifier })}">${row.identifier}</a>` : '—'}</td>
<td data-label="Source">${row.source}</td>
<td data-label="Status">${statusBadge(row.status)}</td>
<td data-label="Error">${row.error_code ? html`<code>${row.error_code}</code>${row.error_message ? html`<div class="hint">${row.error_message}</div>` : ''}` : '—'}</td>
<td data-label="Duration" class="num">${row.duration_ms} ms</td>
<td data-label="Execution id"><a href="/dashboard/logs${queryString({ range, execution: row.execution_id })}"><code>${row.execution_id}</code></a></td></tr>`,
        )}</tbody></table></div>
<nav class="pager" aria-label="Pages">${pageNumber > 1 ? html`<a class="button" href="${link(pageNumber - 1)}">Newer</a>` : ''}<span class="muted">Page ${pageNumber} of ${pages} (${count} calls)</span>${
          pageNumber < pages ? html`<a class="button" href="${link(pageNumber + 1)}">Older</a>` : ''
        }</nav>`
      : html`<div class="panel"><p>No tool calls match.</p></div>`;

    const option = (value: string, label: string, selected: string) =>
      html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;

    return c.html(
      page({
        title: 'Tool-call logs',
        session: c.get('session'),
        section: 'logs',
        body: html`<h1>Tool-call logs</h1>
<form method="get" action="/dashboard/logs" class="panel filters" aria-label="Filters">
<div class="field"><label for="range">Time range</label><select id="range" name="range">${Object.entries(RANGES).map(([key, r]) => option(key, r.label, range))}</select></div>
<div class="field"><label for="tool">Tool</label><input type="text" id="tool" name="tool" list="tool-names" value="${filters.tool}" spellcheck="false">
<datalist id="tool-names">${toolNames.map((t) => html`<option value="${t.tool_name}"></option>`)}</datalist></div>
<div class="field"><label for="match">Tool name</label><select id="match" name="match">${option('contains', 'contains', filters.match)}${option('prefix', 'starts with', filters.match)}${option('exact', 'is exactly', filters.match)}</select></div>
<div class="field"><label for="execution">Execution id</label><input type="text" id="execution" name="execution" value="${filters.execution}" placeholder="exec_…" spellcheck="false"></div>
<div class="field"><label for="connection">Connection</label><select id="connection" name="connection">${option('', 'Any', filters.connection)}${connectionNames.map((r) => option(r.name, r.name, filters.connection))}</select></div>
<div class="field"><label for="user">User</label><input type="text" id="user" name="user" value="${filters.user}" spellcheck="false"></div>
<div class="field"><label for="status">Status</label><select id="status" name="status">${option('', 'Any', filters.status)}${option('SUCCESS', 'Success', filters.status)}${option('FAILED', 'Failed', filters.status)}</select></div>
<div class="field"><button type="submit" class="primary">Apply</button> <a href="/dashboard/logs">Reset</a></div>
</form>
<section class="panel chart" aria-labelledby="chart-heading"><h2 id="chart-heading">Calls and errors, ${spec.label.toLowerCase()}</h2>
<div class="legend" aria-hidden="true"><span><span class="swatch calls"></span>Calls</span><span><span class="swatch errors"></span>Errors</span></div>
${callsChart(buckets, { title: `Tool calls, ${spec.label.toLowerCase()}`, shortLabels: spec.shortLabels })}
${points.length >= CHART_ROWS ? html`<p class="hint">The chart shows the latest ${CHART_ROWS} calls of this range.</p>` : ''}</section>
${table}`,
      }),
    );
  });
}
