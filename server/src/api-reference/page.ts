type Json = Record<string, unknown>;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Tagged template whose interpolations are escaped unless they are markup built here. */
class Markup {
  constructor(readonly value: string) {}
}
type Value = Markup | string | number | boolean | null | undefined | readonly Value[];
function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Markup) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}
function h(strings: TemplateStringsArray, ...values: Value[]): Markup {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Markup(out);
}

/** `#/components/schemas/Connection` → `Connection`. */
function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** A type, linked to its entry under Schemas when it is one. */
function typeCell(schema: Json | undefined): Markup {
  const target = schema?.type === 'array' ? (schema.items as Json | undefined) : schema;
  const ref = typeof target?.$ref === 'string' ? target.$ref : undefined;
  return ref
    ? h`<a href="#schema-${refName(ref)}"><code>${typeOf(schema)}</code></a>`
    : h`<code>${typeOf(schema)}</code>`;
}

/** A JSON Schema in one line a reader can scan: `string ≤100`, `"a" | "b"`, `{ name, tools? }`. */
function typeOf(schema: Json | undefined): string {
  if (!schema) return 'any';
  if (typeof schema.$ref === 'string') return refName(schema.$ref);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const union = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (union) return union.map(typeOf).join(' | ');
  if (schema.type === 'array') return `${typeOf(schema.items as Json)}[]`;
  if (schema.type === 'object' && schema.properties) {
    const required = new Set((schema.required ?? []) as string[]);
    const keys = Object.keys(schema.properties as Json).map((k) => (required.has(k) ? k : `${k}?`));
    return `{ ${keys.join(', ')} }`;
  }
  const limits = [
    schema.format ? `${schema.format}` : '',
    schema.minLength !== undefined ? `≥${schema.minLength}` : '',
    schema.maxLength !== undefined ? `≤${schema.maxLength}` : '',
    schema.minimum !== undefined && schema.minimum !== Number.MIN_SAFE_INTEGER ? `≥${schema.minimum}` : '',
    // zod's int() says the safe-integer bounds; they are no limit a caller needs to read.
    schema.maximum !== undefined && schema.maximum !== Number.MAX_SAFE_INTEGER ? `≤${schema.maximum}` : '',
    schema.default !== undefined ? `default ${JSON.stringify(schema.default)}` : '',
  ].filter(Boolean);
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : String(schema.type ?? 'any');
  return limits.length ? `${type} (${limits.join(', ')})` : type;
}

function fieldRows(schema: Json, prefix = ''): Markup[] {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).flatMap(([name, property]) => {
    const nested = property.type === 'object' && property.properties ? fieldRows(property, `${prefix}${name}.`) : [];
    return [
      h`<tr><td><code>${prefix}${name}</code></td><td>${required.has(name) ? 'required' : 'optional'}</td><td>${typeCell(property)}</td><td>${String(property.description ?? '')}</td></tr>`,
      ...nested,
    ];
  });
}

/** The fields of the first success answer that is an object of its own (a named one links to Schemas). */
function answerFields(responses: [string, Json][]): Markup | '' {
  for (const [status, r] of responses) {
    const schema = ((r.content ?? {}) as Record<string, { schema?: Json }>)['application/json']?.schema;
    if (!status.startsWith('2') || !schema?.properties || !Object.keys(schema.properties as Json).length) continue;
    return h`<h4>Answer <span class="muted">${status}</span></h4><table class="fields"><tr><th>field</th><th></th><th>type</th><th>description</th></tr>${fieldRows(schema)}</table>`;
  }
  return '';
}

function operationHtml(path: string, method: string, op: Json): Markup {
  const parameters = (op.parameters ?? []) as Json[];
  const body = op.requestBody as { content: Record<string, { schema: Json }> } | undefined;
  const [bodyType, bodyContent] = body ? (Object.entries(body.content)[0] ?? []) : [];
  const responses = Object.entries((op.responses ?? {}) as Record<string, Json>);
  const auth = ((op.security ?? []) as Json[]).flatMap((s) => Object.keys(s));
  const id = String(op.operationId);
  return h`<section class="op" id="${id}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
<p>${String(op.summary ?? '')}</p>${op.description ? h`<p class="muted">${String(op.description)}</p>` : ''}
<p class="muted">Auth: ${auth.length ? auth.join(' or ') : 'none'}</p>
${
  parameters.length
    ? h`<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>${parameters.map(
        (p) =>
          h`<tr><td><code>${String(p.name)}</code>${p.required ? ' *' : ''}</td><td>${String(p.in)}</td><td><code>${typeOf(p.schema as Json)}</code></td><td>${String(p.description ?? '')}</td></tr>`,
      )}</table>`
    : ''
}
${
  bodyContent
    ? h`<h4>Body <span class="muted">${bodyType}</span></h4><table class="fields"><tr><th>field</th><th></th><th>type</th><th>description</th></tr>${fieldRows(bodyContent.schema)}</table>`
    : ''
}
<h4>Responses</h4><table>${responses.map(([status, r]) => {
    const content = (r.content ?? {}) as Record<string, { schema?: Json }>;
    const json = status.startsWith('2') ? content['application/json']?.schema : undefined;
    return h`<tr><td class="status s${status.slice(0, 1)}">${status}</td><td>${String(r.description ?? '')}</td><td>${json ? typeCell(json) : ''}</td></tr>`;
  })}</table>
${answerFields(responses)}
</section>`;
}

/** The whole reference as one server-rendered page: no script, one same-origin stylesheet. */
export function referencePage(spec: Json): string {
  const info = spec.info as Json;
  const paths = (spec.paths ?? {}) as Record<string, Record<string, Json>>;
  const byTag = new Map<string, Markup[]>();
  const index = new Map<string, Markup[]>();
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = ((op.tags ?? ['Other']) as string[])[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(path, method, op)]);
      index.set(tag, [
        ...(index.get(tag) ?? []),
        h`<li><a href="#${String(op.operationId)}"><span class="method ${method}">${method.toUpperCase()}</span> ${path}</a></li>`,
      ]);
    }
  }
  const schemes = Object.entries(((spec.components as Json).securitySchemes ?? {}) as Record<string, Json>);
  return h`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${String(info.title)} API reference</title><link rel="stylesheet" href="/docs/styles.css"></head>
<body><nav><h1>${String(info.title)} <span class="muted">${String(info.version)}</span></h1>
<p><a href="/openapi.json">openapi.json</a></p>
${[...index].map(([tag, items]) => h`<h2>${tag}</h2><ul>${items}</ul>`)}<h2><a href="#schemas">Schemas</a></h2></nav>
<main><p>${String(info.description ?? '')}</p>
<h2 id="auth">Auth schemes</h2><table>${schemes.map(
    ([name, s]) =>
      h`<tr><td><code>${name}</code></td><td>${String(s.type)}${s.scheme ? ` ${String(s.scheme)}` : ''}</td><td>${String(s.description ?? '')}</td></tr>`,
  )}</table>
<p class="muted">REST errors answer <code>{ "error": { "code", "message" }, "request_id" }</code>; each route lists the codes it can answer, by status.</p>
${[...byTag].map(([tag, ops]) => h`<h2>${tag}</h2>${ops}`)}
<h2 id="schemas">Schemas</h2>${Object.entries(((spec.components as Json).schemas ?? {}) as Record<string, Json>).map(
    ([name, schema]) =>
      h`<section class="op" id="schema-${name}"><h3><code>${name}</code></h3>${
        schema.properties
          ? h`<table class="fields"><tr><th>field</th><th></th><th>type</th><th>description</th></tr>${fieldRows(schema)}</table>`
          : h`<p><code>${typeOf(schema)}</code></p>`
      }</section>`,
  )}</main></body></html>`.value;
}

export const REFERENCE_STYLES = `*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;display:grid;grid-template-columns:320px 1fr;background:#fff}
nav{position:sticky;top:0;height:100vh;overflow:auto;padding:16px;border-right:1px solid #d0d7de;background:#f6f8fa;font-size:13px}
nav h1{font-size:18px;margin:0 0 8px}nav h2{font-size:13px;text-transform:uppercase;color:#57606a;margin:16px 0 4px}nav ul{list-style:none;margin:0;padding:0}
nav li a{display:flex;gap:6px;align-items:baseline;padding:2px 0;color:#1f2328;text-decoration:none;overflow-wrap:anywhere}nav li a:hover{color:#0969da}
main{padding:24px 32px;max-width:1100px;min-width:0}main>h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
.op{border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:16px 0}.op h3{margin:0 0 4px;font-size:16px;overflow-wrap:anywhere}.op h4{margin:12px 0 4px;font-size:13px}
.method{display:inline-block;flex:none;min-width:56px;text-align:center;border-radius:4px;font:600 11px/18px ui-monospace,monospace;color:#fff;background:#57606a}
.get{background:#1a7f37}.post{background:#0969da}.put,.patch{background:#9a6700}.delete{background:#cf222e}
table{border-collapse:collapse;width:100%;font-size:13px}.fields{table-layout:fixed}.fields th:nth-child(1){width:30%}.fields th:nth-child(2){width:10%}.fields th:nth-child(3){width:32%}td,th{border-top:1px solid #eaeef2;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}.muted{color:#57606a}.status{font-weight:600;width:56px}.s2{color:#1a7f37}.s3{color:#0969da}.s4{color:#9a6700}.s5{color:#cf222e}
@media (max-width:800px){body{grid-template-columns:1fr}nav{position:static;height:auto}main{padding:16px}}`;
