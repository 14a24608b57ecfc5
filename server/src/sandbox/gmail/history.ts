import { invalidArgument, notFound } from '../google-errors.js';
import { listParam, paginate } from './routes-support.js';
import { G, type GmailRoutes } from './routing.js';
import { GMAIL_SCOPES } from './scopes.js';

const historyTypes = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];

/** users.history.list: the mailbox's changes since a history id. */
export function registerHistoryRoutes({ route }: GmailRoutes): void {
  route('GET', `${G}/history`, GMAIL_SCOPES.read, 'ListHistory', (c, { mailbox }) => {
    const startParam = c.req.query('startHistoryId');
    if (!startParam) return invalidArgument('Missing required parameter: startHistoryId');
    const start = Number(startParam);
    if (!Number.isInteger(start) || start < 0) return invalidArgument('Invalid startHistoryId');
    if (start < mailbox.oldestHistoryId) return notFound();
    const types = listParam(c, 'historyTypes');
    const unknownType = types.find((type) => !historyTypes.includes(type));
    if (unknownType) return invalidArgument(`Invalid value for historyTypes: ${unknownType}`);
    const labelId = c.req.query('labelId');
    const records = mailbox.history
      .filter(
        (record) =>
          record.id > start &&
          (types.length === 0 || types.includes(record.type)) &&
          (!labelId || record.messageLabels.includes(labelId) || record.labelIds.includes(labelId)),
      )
      .map((record) => {
        const message = { id: record.messageId, threadId: record.threadId };
        const withLabels = { ...message, labelIds: record.messageLabels };
        const detail =
          record.type === 'messageAdded'
            ? { messagesAdded: [{ message: withLabels }] }
            : record.type === 'messageDeleted'
              ? { messagesDeleted: [{ message }] }
              : {
                  [record.type === 'labelAdded' ? 'labelsAdded' : 'labelsRemoved']: [
                    { message: withLabels, labelIds: record.labelIds },
                  ],
                };
        return { id: String(record.id), messages: [message], ...detail };
      });
    const page = paginate(c, records, 100, 500);
    if (page instanceof Response) return page;
    return c.json({
      ...(page.items.length > 0 ? { history: page.items } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      historyId: String(mailbox.historyId),
    });
  });
}
