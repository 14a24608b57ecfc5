import type { AccountEvents } from '../accounts/account-events.js';
import type { Services } from '../context.js';
import { type Html, html } from './html.js';
import { time } from './layout.js';

type AccountEvent = Awaited<ReturnType<AccountEvents['list']>>['events'][number];

/** How many of each account's latest events the user's page shows; the API lists them all. */
const RECENT_EVENTS = 10;

/** The latest `count` events of an account, newest first, through the domain's oldest-first list. */
async function recentEvents(services: Services, accountId: string, count: number): Promise<AccountEvent[]> {
  const first = await services.accountEvents.list({ accountId, limit: count, offset: 0 });
  const latest =
    first.total > count
      ? await services.accountEvents.list({ accountId, limit: count, offset: first.total - count })
      : first;
  return latest.events.reverse();
}

/** What an event says beyond its type, from fields that never hold a secret (see AccountEventDetail). */
function eventNote(event: AccountEvent): string {
  const text = (key: string) => {
    const value = event.detail[key];
    return typeof value === 'string' ? value : '';
  };
  return [
    text('source') && `from ${text('source')}`,
    text('reason'),
    text('attempted_provider_account') && `attempted by ${text('attempted_provider_account')}`,
    event.detail.user_verification === true ? 'with user verification' : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/**
 * Each connected account's recent lifecycle on the user's page (link issued, consent,
 * verification, identity mismatch, refresh failures, disconnect): type and time, no link or token.
 */
export async function accountHistorySection(
  services: Services,
  identifier: string,
  accounts: { id: string; c_name: string }[],
): Promise<Html> {
  const histories = await Promise.all(
    accounts.map(async (account) => ({ account, events: await recentEvents(services, account.id, RECENT_EVENTS) })),
  );
  const rows = histories.flatMap(({ account, events }) => events.map((event) => ({ account, event })));
  const table = rows.length
    ? html`<div class="table-wrap"><table class="stack"><caption class="visually-hidden">Recent account events of ${identifier}</caption>
<thead><tr><th scope="col">Connection</th><th scope="col">Event</th><th scope="col">When</th><th scope="col">Detail</th></tr></thead>
<tbody>${rows.map(
        ({ account, event }) => html`<tr>
<td data-label="Connection"><strong>${account.c_name}</strong></td>
<td data-label="Event"><code>${event.type}</code></td>
<td data-label="When">${time(event.created_at)}</td>
<td data-label="Detail">${eventNote(event) || '—'}</td></tr>`,
      )}</tbody></table></div>
<p class="hint">The latest ${RECENT_EVENTS} of each account; all of them: <code>GET /api/v1/connected_accounts/{id}/events</code>.</p>`
    : html`<p class="muted">No account events yet.</p>`;
  return html`<section aria-labelledby="history-title"><h2 id="history-title">Recent account events</h2>${table}</section>`;
}
