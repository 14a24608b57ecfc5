const SKIPPED_ELEMENT = /^(style|script)/i;

/**
 * The text of an HTML body, for snippets and search: tags become spaces, `<style>` and
 * `<script>` elements go with their content, a few entities are decoded. One forward scan:
 * each `<` looks ahead for its `>` once, and a missing closing tag is searched for once per
 * element name, so hostile bodies (`<` without `>`, unclosed `<style>`) cost linear time.
 */
export function htmlToText(html: string): string {
  const parts: string[] = [];
  const unclosed = new Set<string>();
  let at = 0;
  while (at < html.length) {
    const open = html.indexOf('<', at);
    if (open === -1) break;
    const close = html.indexOf('>', open + 1);
    // No `>` anywhere after: nothing further can be a tag, the rest is text.
    if (close === -1) break;
    // `<>` is not a tag: keep it as text.
    if (close === open + 1) {
      parts.push(html.slice(at, close + 1));
      at = close + 1;
      continue;
    }
    parts.push(html.slice(at, open), ' ');
    at = close + 1;
    const name = SKIPPED_ELEMENT.exec(html.slice(open + 1, open + 7))?.[1]?.toLowerCase();
    if (!name || unclosed.has(name)) continue;
    const end = new RegExp(`</${name}>`, 'gi');
    end.lastIndex = at;
    if (end.exec(html)) at = end.lastIndex;
    else unclosed.add(name);
  }
  parts.push(html.slice(at));
  return decodeEntities(parts.join(''));
}

function decodeEntities(text: string): string {
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}
