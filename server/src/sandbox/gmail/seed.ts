import type { SandboxUser } from '../context.js';
import type { Mailbox } from './mailbox.js';
import { type ComposeInput, composeMessage } from './mime.js';

const HOUR = 3_600_000;

// A one-page PDF that real viewers open, small enough to read in a test failure.
const INVOICE_PDF = `%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj
4 0 obj << /Length 55 >> stream
BT /F1 18 Tf 20 70 Td (Invoice INV-2041: $1,280.00) Tj ET
endstream endobj
5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
trailer << /Root 1 0 R >>
%%EOF
`;

interface SeedMessage {
  hoursAgo: number;
  labels: string[];
  mail: Omit<ComposeInput, 'date' | 'messageId'> & { key: string; replyTo?: string };
}

function seedMessages(user: SandboxUser, colleague: SandboxUser | undefined): SeedMessage[] {
  const me = `${user.name} <${user.email}>`;
  const messages: SeedMessage[] = [
    {
      hoursAgo: 74,
      labels: ['INBOX', 'IMPORTANT', 'CATEGORY_PERSONAL'],
      mail: {
        key: 'roadmap',
        from: 'Priya Natarajan <priya@acme-corp.example>',
        to: [me],
        subject: 'Q3 roadmap review',
        text: `Hi ${user.givenName},\n\nCould you look at the Q3 roadmap draft before Thursday? The open questions are the calendar sync and the pricing page.\n\nThanks,\nPriya`,
      },
    },
    {
      hoursAgo: 50,
      labels: ['SENT'],
      mail: {
        key: 'roadmap-reply',
        replyTo: 'roadmap',
        from: me,
        to: ['Priya Natarajan <priya@acme-corp.example>'],
        subject: 'Re: Q3 roadmap review',
        text: `Hi Priya,\n\nDone. I left comments on the calendar sync section; pricing looks good to me.\n\n${user.givenName}`,
      },
    },
    {
      hoursAgo: 52,
      labels: ['INBOX', 'CATEGORY_UPDATES'],
      mail: {
        key: 'invoice',
        from: 'Acme Billing <billing@acme-corp.example>',
        to: [me],
        subject: 'Your invoice INV-2041',
        text: `Hello ${user.givenName},\n\nYour invoice INV-2041 for $1,280.00 is attached. Payment is due within 30 days.\n\nAcme Billing`,
        attachments: [{ filename: 'INV-2041.pdf', mimeType: 'application/pdf', content: Buffer.from(INVOICE_PDF) }],
      },
    },
    {
      hoursAgo: 26,
      labels: ['INBOX', 'CATEGORY_UPDATES'],
      mail: {
        key: 'github',
        from: 'GitHub <notifications@github.example>',
        to: [me],
        subject: '[acme/switchboard] Add Gmail sandbox (PR #42)',
        text: 'maria-k requested your review on PR #42: Add Gmail sandbox.\n\nView it on GitHub: https://github.example/acme/switchboard/pull/42',
        html: '<p><b>maria-k</b> requested your review on <a href="https://github.example/acme/switchboard/pull/42">PR #42: Add Gmail sandbox</a>.</p>',
      },
    },
    {
      hoursAgo: 98,
      labels: ['INBOX', 'STARRED', 'CATEGORY_PERSONAL'],
      mail: {
        key: 'trip',
        from: 'Travel Desk <travel@acme-corp.example>',
        to: [me],
        subject: 'Your trip to Lisbon: itinerary',
        text: `${user.givenName}, your itinerary for Lisbon (12–15 of next month) is attached. Flight TP 1351 departs 09:40.`,
        attachments: [
          {
            filename: 'itinerary.txt',
            mimeType: 'text/plain',
            content: Buffer.from('Flight TP 1351 09:40 → 12:05\nHotel Avenida, 3 nights\n'),
          },
        ],
      },
    },
    {
      hoursAgo: 140,
      labels: ['INBOX', 'UNREAD', 'CATEGORY_PROMOTIONS'],
      mail: {
        key: 'newsletter',
        from: 'The Morning Byte <news@morningbyte.example>',
        to: [user.email],
        subject: 'This week: agents that book meetings for you',
        text: 'This week: agents that book meetings, a new MCP release, and five tips for calmer inboxes.',
        html: '<html><body><h1>The Morning Byte</h1><p>This week: agents that book meetings, a new <b>MCP</b> release, and five tips for calmer inboxes.</p></body></html>',
      },
    },
    {
      hoursAgo: 5,
      labels: ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL'],
      mail: {
        key: 'dinner',
        from: 'Marco Rossi <marco@rossi.example>',
        to: [me],
        subject: 'Dinner on Friday?',
        text: `Ciao ${user.givenName}! Are you free for dinner on Friday at 8pm? I booked a table at Tasca do Chico.`,
      },
    },
  ];
  if (colleague) {
    messages.push({
      hoursAgo: 0.5,
      labels: ['INBOX', 'UNREAD', 'IMPORTANT', 'CATEGORY_PERSONAL'],
      mail: {
        key: 'lunch',
        from: `${colleague.name} <${colleague.email}>`,
        to: [me],
        subject: 'Lunch tomorrow?',
        text: `Hey ${user.givenName}, lunch tomorrow at 12:30? ${colleague.givenName}`,
      },
    });
  }
  return messages;
}

/** Fills a new mailbox with realistic mail dated relative to `now`, built as real RFC 822. */
export function seedMailbox(mailbox: Mailbox, now: number, colleague: SandboxUser | undefined): void {
  const domain = mailbox.user.email.split('@')[1] ?? 'example.com';
  const messageIds = new Map<string, string>();
  const seeds = seedMessages(mailbox.user, colleague).sort((a, b) => b.hoursAgo - a.hoursAgo);
  for (const [index, seed] of seeds.entries()) {
    const { key, replyTo, ...mail } = seed.mail;
    const date = new Date(Math.floor((now - seed.hoursAgo * HOUR) / 1000) * 1000);
    const messageId = `<seed-${key}-${mailbox.user.sub}@${domain}>`;
    messageIds.set(key, messageId);
    const parent = replyTo ? messageIds.get(replyTo) : undefined;
    const raw = composeMessage(
      { ...mail, date, messageId, ...(parent ? { inReplyTo: parent, references: parent } : {}) },
      `${index}${mailbox.user.sub.slice(-6)}`,
    );
    mailbox.insert(Buffer.from(raw, 'latin1'), { labelIds: seed.labels, internalDate: date.getTime() });
  }
  mailbox.sealHistory();
}
