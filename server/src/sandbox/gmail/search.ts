import type { Label } from './labels.js';
import type { StoredMessage } from './mailbox.js';

/**
 * A useful subset of Gmail's search operators (https://support.google.com/mail/answer/7190):
 * from: to: cc: bcc: subject: label: in: is: has: filename: category: after: before:
 * older: newer: newer_than: older_than: larger: smaller: rfc822msgid:, free words and
 * "quoted phrases", `-` negation, `OR` between two terms, `{a b}` as "any of".
 */
export interface SearchContext {
  now: number;
  userEmail: string;
  labels: Map<string, Label>;
}

type Predicate = (message: StoredMessage) => boolean;

interface Query {
  predicate: Predicate;
  /** The query itself names SPAM or TRASH (or in:anywhere), so those are not hidden. */
  reachesSpamTrash: boolean;
}

function tokenize(q: string): string[] {
  const tokens: string[] = [];
  const pattern = /-?[\w.+-]+:"[^"]*"|-?"[^"]*"|[{}()]|[^\s{}()]+/g;
  for (const match of q.matchAll(pattern)) tokens.push(match[0]);
  return tokens;
}

const unquote = (value: string) => value.replace(/^"(.*)"$/, '$1');

function parseDate(value: string): number | undefined {
  if (/^\d{9,}$/.test(value)) return Number(value) * 1000;
  const match = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  if (!match) return undefined;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

function parseAge(value: string): number | undefined {
  const match = /^(\d+)([hdmy])$/i.exec(value);
  if (!match) return undefined;
  const unit = { h: 3600, d: 86400, m: 30 * 86400, y: 365 * 86400 }[(match[2] ?? 'd').toLowerCase()] ?? 86400;
  return Number(match[1]) * unit * 1000;
}

function parseSize(value: string): number | undefined {
  const match = /^(\d+)([km]?)$/i.exec(value);
  if (!match) return undefined;
  const factor = { '': 1, k: 1024, m: 1024 * 1024 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Number(match[1]) * factor;
}

function labelIdFor(name: string, ctx: SearchContext): string {
  const wanted = name.toLowerCase();
  for (const label of ctx.labels.values()) {
    const spelled = label.name.toLowerCase();
    // Gmail lets `label:` spell spaces and slashes as dashes.
    if (label.id.toLowerCase() === wanted || spelled === wanted || spelled.replace(/[\s/]+/g, '-') === wanted) {
      return label.id;
    }
  }
  return name.toUpperCase();
}

const CATEGORY: Record<string, string> = {
  primary: 'CATEGORY_PERSONAL',
  personal: 'CATEGORY_PERSONAL',
  social: 'CATEGORY_SOCIAL',
  promotions: 'CATEGORY_PROMOTIONS',
  updates: 'CATEGORY_UPDATES',
  forums: 'CATEGORY_FORUMS',
};

function addressMatcher(field: 'from' | 'to' | 'cc' | 'bcc', value: string, ctx: SearchContext): Predicate {
  const wanted = value === 'me' ? ctx.userEmail.toLowerCase() : value;
  if (field === 'to') {
    return (m) => m.search.to.includes(wanted) || m.search.cc.includes(wanted) || m.search.bcc.includes(wanted);
  }
  return (m) => m.search[field].includes(wanted);
}

function termPredicate(token: string, ctx: SearchContext, flags: { reachesSpamTrash: boolean }): Predicate {
  const colon = token.indexOf(':');
  const operator = colon > 0 && !token.startsWith('"') ? token.slice(0, colon).toLowerCase() : '';
  const value = unquote(colon > 0 && operator ? token.slice(colon + 1) : token).toLowerCase();
  const has = (label: string) => (m: StoredMessage) => m.labelIds.has(label);
  switch (operator) {
    case 'from':
    case 'to':
    case 'cc':
    case 'bcc':
      return addressMatcher(operator, value, ctx);
    case 'subject':
      return (m) => m.search.subject.includes(value);
    case 'label':
    case 'in': {
      if (value === 'anywhere' || value === 'all') {
        if (value === 'anywhere') flags.reachesSpamTrash = true;
        return () => true;
      }
      const id = value === 'drafts' ? 'DRAFT' : labelIdFor(value, ctx);
      if (id === 'SPAM' || id === 'TRASH') flags.reachesSpamTrash = true;
      return has(id);
    }
    case 'is':
      switch (value) {
        case 'unread':
          return has('UNREAD');
        case 'read':
          return (m) => !m.labelIds.has('UNREAD');
        case 'starred':
          return has('STARRED');
        case 'important':
          return has('IMPORTANT');
        default:
          return has(labelIdFor(value, ctx));
      }
    case 'category':
      return has(CATEGORY[value] ?? `CATEGORY_${value.toUpperCase()}`);
    case 'has':
      if (value === 'attachment') return (m) => m.attachmentIds.size > 0;
      if (value === 'userlabels') return (m) => [...m.labelIds].some((id) => id.startsWith('Label_'));
      if (value === 'nouserlabels') return (m) => ![...m.labelIds].some((id) => id.startsWith('Label_'));
      return () => false;
    case 'filename':
      return (m) => m.search.filenames.some((name) => name.includes(value) || name.endsWith(`.${value}`));
    case 'after':
    case 'newer': {
      const time = parseDate(value);
      return time === undefined ? () => false : (m) => m.internalDate >= time;
    }
    case 'before':
    case 'older': {
      const time = parseDate(value);
      return time === undefined ? () => false : (m) => m.internalDate < time;
    }
    case 'newer_than': {
      const age = parseAge(value);
      return age === undefined ? () => false : (m) => m.internalDate > ctx.now - age;
    }
    case 'older_than': {
      const age = parseAge(value);
      return age === undefined ? () => false : (m) => m.internalDate < ctx.now - age;
    }
    case 'larger':
    case 'size': {
      const size = parseSize(value);
      return size === undefined ? () => false : (m) => m.raw.byteLength > size;
    }
    case 'smaller': {
      const size = parseSize(value);
      return size === undefined ? () => false : (m) => m.raw.byteLength < size;
    }
    case 'rfc822msgid':
      return (m) => m.search.messageId.toLowerCase().replace(/[<>]/g, '') === value.replace(/[<>]/g, '');
    default: {
      const text = unquote(token).toLowerCase();
      return (m) =>
        m.search.subject.includes(text) ||
        m.search.body.includes(text) ||
        m.search.from.includes(text) ||
        m.search.to.includes(text) ||
        m.search.cc.includes(text) ||
        m.search.filenames.some((name) => name.includes(text));
    }
  }
}

export function parseQuery(q: string, ctx: SearchContext): Query {
  const flags = { reachesSpamTrash: false };
  const tokens = tokenize(q);
  const clauses: Predicate[] = [];
  let pendingOr = false;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] ?? '';
    if (token === '(' || token === ')') continue;
    if (token === 'OR' || token === '|') {
      pendingOr = clauses.length > 0;
      continue;
    }
    if (token === 'AND') continue;
    let predicate: Predicate;
    if (token === '{') {
      const group: Predicate[] = [];
      while (index + 1 < tokens.length && tokens[index + 1] !== '}') {
        index += 1;
        group.push(termPredicate(tokens[index] ?? '', ctx, flags));
      }
      index += 1;
      predicate = (m) => group.some((p) => p(m));
    } else if (token.startsWith('-') && token.length > 1) {
      const inner = termPredicate(token.slice(1), ctx, { reachesSpamTrash: false });
      predicate = (m) => !inner(m);
    } else {
      predicate = termPredicate(token, ctx, flags);
    }
    if (pendingOr) {
      const left = clauses.pop() ?? (() => false);
      const right = predicate;
      clauses.push((m) => left(m) || right(m));
      pendingOr = false;
    } else {
      clauses.push(predicate);
    }
  }
  return { predicate: (m) => clauses.every((p) => p(m)), reachesSpamTrash: flags.reachesSpamTrash };
}
