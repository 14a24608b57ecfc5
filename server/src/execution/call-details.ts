/**
 * What a tool_call_logs row may say about a call besides its outcome: the error message with
 * secrets taken out, and a summary of the arguments that is enough to debug with (which
 * keys, short values) but never carries a message body, an attachment or a token.
 */

/** Arguments whose name says they hold a body or a secret are left out, whatever their value. */
const DROPPED_KEY =
  /body|raw|content|html|text|attachment|token|secret|password|credential|authorization|api[_-]?key|[_-]key$/i;
// Whole names only (country_code is no secret): no tool takes key/sig/code; proxied, code is OAuth's.
const DROPPED_NAME = /^(?:key|sig|signature|code)$/i;
/** Longer strings are cut to this many characters, with an ellipsis. */
const MAX_STRING = 64;
const MAX_KEYS = 20;
const MAX_ITEMS = 5;
const MAX_DEPTH = 3;
/** The stored summary (JSON) never exceeds this; past it, keys are left out from the end. */
export const MAX_SUMMARY_CHARS = 1024;
export const MAX_ERROR_MESSAGE_CHARS = 1000;

function summarizeValue(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    // Redacted before it is cut, so a token cut in two is still recognised.
    const redacted = redactSecrets(value);
    return redacted.length > MAX_STRING ? `${redacted.slice(0, MAX_STRING)}…` : redacted;
  }
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) return `[${value.length} items]`;
    const items = value.slice(0, MAX_ITEMS).map((item) => summarizeValue(item, depth + 1));
    return value.length > MAX_ITEMS ? [...items, `… ${value.length - MAX_ITEMS} more`] : items;
  }
  if (typeof value === 'object') {
    if (depth >= MAX_DEPTH) return '{…}';
    const out: Record<string, unknown> = {};
    const entries = Object.entries(value);
    for (const [key, item] of entries.slice(0, MAX_KEYS)) {
      if (DROPPED_KEY.test(key) || DROPPED_NAME.test(key)) continue;
      out[redactSecrets(key).slice(0, MAX_STRING)] = summarizeValue(item, depth + 1);
    }
    if (entries.length > MAX_KEYS) out['…'] = `${entries.length - MAX_KEYS} more keys`;
    return out;
  }
  return undefined;
}

/**
 * The call's arguments as a JSON summary: keys and short scalars, long strings cut, arrays
 * and objects bounded, fields named like a body or a secret dropped, and in what is kept,
 * links, tokens and token-like strings redacted as in error messages; at most
 * MAX_SUMMARY_CHARS. Null when there were no arguments to speak of.
 */
export function summarizeArguments(params: unknown): string | null {
  if (params === null || params === undefined) return null;
  const summary = summarizeValue(params, 0);
  if (summary === undefined) return null;
  let json = JSON.stringify(summary);
  if (json.length <= MAX_SUMMARY_CHARS) return json;
  if (summary === null || typeof summary !== 'object' || Array.isArray(summary)) {
    return JSON.stringify({ '…': 'arguments too large to summarize' });
  }
  // Leave keys out from the end until it fits, and say so.
  const kept = Object.entries(summary);
  while (kept.length) {
    kept.pop();
    json = JSON.stringify({ ...Object.fromEntries(kept), '…': 'more keys left out' });
    if (json.length <= MAX_SUMMARY_CHARS) return json;
  }
  return JSON.stringify({ '…': 'arguments too large to summarize' });
}

const SECRET_PATTERNS: [RegExp, string][] = [
  // Authentication links and instance URLs are capabilities.
  [/(\/connect\/)[A-Za-z0-9_-]+/g, '$1[redacted]'],
  [/(\/mcp\/i\/)[A-Za-z0-9_-]+/g, '$1[redacted]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [
    /\b(access_token|refresh_token|id_token|client_secret|code|token|key|api_key|sig|signature|password)=[^&\s"']+/gi,
    '$1=[redacted]',
  ],
  // Google access tokens and API keys.
  [/\bya29\.[A-Za-z0-9._-]+/g, '[redacted]'],
  [/\bAIza[A-Za-z0-9_-]{35}\b/g, '[redacted]'],
];

/**
 * Any long unbroken token-like run: for error messages only, where a provider may echo what it
 * was sent. Arguments keep theirs: calendar ids (`c_<64 hex>@group…`) and recurring event
 * instance ids are such runs, and a summary that hid them could not tell one call from another.
 */
const ERROR_PATTERNS: readonly [RegExp, string][] = [...SECRET_PATTERNS, [/\b[A-Za-z0-9_-]{40,}\b/g, '[redacted]']];

function redactSecrets(text: string, patterns: readonly [RegExp, string][] = SECRET_PATTERNS): string {
  let out = text;
  for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
  return out;
}

/** An error message fit to store: links, tokens and token-like strings redacted, length capped. */
export function redactErrorMessage(message: string): string {
  const out = redactSecrets(message, ERROR_PATTERNS);
  return out.length > MAX_ERROR_MESSAGE_CHARS ? `${out.slice(0, MAX_ERROR_MESSAGE_CHARS)}…` : out;
}
