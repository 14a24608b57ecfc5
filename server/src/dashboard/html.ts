/**
 * HTML built from tagged templates. Every interpolated value is escaped unless it is already
 * `Html` (built by this module), so a connection name, identifier or tool argument containing
 * `<script>` renders as inert text. `trusted()` is the one way to inject markup, kept for
 * catalog data the code itself ships (provider icons).
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Markup that comes from the code base, never from a request or the database. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** `?a=1&b=2` from the non-empty entries. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
