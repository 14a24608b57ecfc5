import type { Context } from 'hono';
import { invalidArgument, notFound } from '../google-errors.js';
import { formatMessage, type MessageFormat } from './format.js';
import type { Mailbox } from './mailbox.js';
import { checkLabels, formatParam, modifySchema, search } from './message-requests.js';
import { listParam, noContent, paginate, readJson } from './routes-support.js';
import { G, type GmailRoutes } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

function formatThread(mailbox: Mailbox, threadId: string, format: MessageFormat, metadataHeaders: string[]) {
  const messages = mailbox.threadMessages(threadId);
  return {
    id: threadId,
    historyId: String(Math.max(...messages.map((message) => message.historyId))),
    messages: messages.map((message) => formatMessage(message, format, metadataHeaders)),
  };
}

/** users.threads.*: list, get, modify, trash, untrash and delete. */
export function registerThreadRoutes({ route, ctx }: GmailRoutes): void {
  route('GET', `${G}/threads`, GMAIL_SCOPES.read, 'ListThreads', (c, access) => {
    const found = search(c, access, ctx.clock.now());
    if (found instanceof Response) return found;
    const threads: { id: string; snippet: string; historyId: string }[] = [];
    const seen = new Set<string>();
    for (const message of found) {
      if (seen.has(message.threadId)) continue;
      seen.add(message.threadId);
      const all = access.mailbox.threadMessages(message.threadId);
      threads.push({
        id: message.threadId,
        snippet: message.snippet,
        historyId: String(Math.max(...all.map((entry) => entry.historyId))),
      });
    }
    const page = paginate(c, threads, 100, 500);
    if (page instanceof Response) return page;
    return c.json({
      ...(page.items.length > 0 ? { threads: page.items } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      resultSizeEstimate: threads.length,
    });
  });

  route('GET', `${G}/threads/:id`, GMAIL_SCOPES.read, 'GetThread', (c, access) => {
    const threadId = c.req.param('id') ?? '';
    if (access.mailbox.threadMessages(threadId).length === 0) return notFound();
    const format = formatParam(c, access);
    if (format instanceof Response) return format;
    if (format === 'raw') return invalidArgument('Invalid format: RAW is not supported for threads');
    return c.json(formatThread(access.mailbox, threadId, format, listParam(c, 'metadataHeaders')));
  });

  function threadChange(
    name: string,
    scopes: string[],
    path: string,
    change: (c: Context) => Promise<{ add: string[]; remove: string[] } | Response>,
  ): void {
    route('POST', `${G}/threads/:id${path}`, scopes, name, async (c, access) => {
      const labels = await change(c);
      if (labels instanceof Response) return labels;
      const threadId = c.req.param('id') ?? '';
      const messages = access.mailbox.threadMessages(threadId);
      if (messages.length === 0) return notFound();
      const bad = checkLabels(access.mailbox, [...labels.add, ...labels.remove]);
      if (bad) return bad;
      for (const message of messages) access.mailbox.modify(message, labels.add, labels.remove);
      return c.json(formatThread(access.mailbox, threadId, 'minimal', []));
    });
  }
  threadChange('ModifyThread', GMAIL_SCOPES.modify, '/modify', async (c) => {
    const body = await readJson(c, modifySchema);
    if (body instanceof Response) return body;
    return { add: body.addLabelIds ?? [], remove: body.removeLabelIds ?? [] };
  });
  threadChange('TrashThread', GMAIL_SCOPES.modify, '/trash', async () => ({ add: ['TRASH'], remove: [] }));
  threadChange('UntrashThread', GMAIL_SCOPES.modify, '/untrash', async () => ({ add: [], remove: ['TRASH'] }));

  route('DELETE', `${G}/threads/:id`, GMAIL_SCOPES.full, 'DeleteThread', (c, access) => {
    const messages = access.mailbox.threadMessages(c.req.param('id') ?? '');
    if (messages.length === 0) return notFound();
    for (const message of messages) access.mailbox.remove(message);
    return noContent();
  });
}
