/**
 * Turns an email's HTML body into readable plain text for a language model: structure
 * (paragraphs, line breaks, list items, table rows) becomes newlines, links keep their
 * target, and everything a reader would not see (head, style, script, comments) is dropped.
 * Email HTML is rarely well-formed, so this is a tolerant tag scanner, not a DOM parser.
 */

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ensp: ' ',
  emsp: ' ',
  thinsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  sbquo: '‚',
  ldquo: '“',
  rdquo: '”',
  bdquo: '„',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  deg: '°',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  para: '¶',
  times: '×',
  divide: '÷',
  plusmn: '±',
  frac12: '½',
  frac14: '¼',
  frac34: '¾',
  iexcl: '¡',
  iquest: '¿',
  shy: '',
  zwnj: '',
  zwj: '',
};

const BLOCK_TAGS =
  'p|div|h[1-6]|ul|ol|dl|dt|dd|table|thead|tbody|tfoot|blockquote|section|article|header|footer|nav|aside|main|pre|address|figure|figcaption|center|form|fieldset';

/** Decodes named, decimal and hexadecimal character references. */
export function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);?/gi, (match, ref: string) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff) return match;
      return String.fromCodePoint(code);
    }
    const named = NAMED_ENTITIES[ref.toLowerCase()];
    return named ?? match;
  });
}

function stripTags(html: string): string {
  return html.replace(/<[^>]*>/g, '');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!match) return undefined;
  return decodeHtmlEntities(match[1] ?? match[2] ?? match[3] ?? '');
}

function sameTarget(text: string, href: string): boolean {
  const bare = (value: string) =>
    value
      .trim()
      .replace(/^mailto:/i, '')
      .replace(/^https?:\/\//i, '')
      .replace(/\/$/, '')
      .toLowerCase();
  return bare(text) === bare(href);
}

/** Readable text of an HTML document or fragment. */
export function htmlToText(html: string): string {
  let text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!DOCTYPE[^>]*>/gi, '')
    .replace(/<(head|style|script|title|noscript|template|svg)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    // HTML source whitespace is not significant; structure alone makes the newlines below.
    .replace(/\s+/g, ' ');

  text = text.replace(/<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi, (_match, attrs: string, inner: string) => {
    const href = attribute(attrs, 'href');
    const label = decodeHtmlEntities(stripTags(inner)).trim();
    if (!href || !/^(https?:|mailto:)/i.test(href)) return inner;
    if (!label) return href.replace(/^mailto:/i, '');
    if (sameTarget(label, href)) return inner;
    return `${inner} (${href.replace(/^mailto:/i, '')})`;
  });

  text = text
    .replace(/<img\b[^>]*>/gi, (tag) => {
      const alt = attribute(tag, 'alt')?.trim();
      return alt ? `[${alt}]` : '';
    })
    .replace(/<br\b[^>]*>/gi, '\n')
    .replace(/<hr\b[^>]*>/gi, '\n---\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<\/li\s*>/gi, '')
    .replace(/<\/tr\s*>/gi, '\n')
    .replace(/<\/t[dh]\s*>/gi, ' \t')
    .replace(new RegExp(`</(?:${BLOCK_TAGS})\\s*>`, 'gi'), '\n\n')
    .replace(new RegExp(`<(?:${BLOCK_TAGS})\\b[^>]*>`, 'gi'), '\n');

  text = decodeHtmlEntities(stripTags(text));
  return tidyText(text);
}

/**
 * Normalizes plain text for a reader: LF line ends, no zero-width characters, no trailing
 * spaces, runs of spaces collapsed, at most one blank line in a row.
 */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\u200b-\u200d\u2060\ufeff\u00ad]|\u034f/g, '')
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
