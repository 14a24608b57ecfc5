import type { ConsentView } from '../mcp-auth/authorization-server.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f7f9;color:#1f2328;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12);padding:2rem;max-width:34rem;margin:1rem}
h1{font-size:1.3rem;margin:0 0 .75rem}p{line-height:1.5}small{color:#59636e}
ul{padding:0;list-style:none}li{border:1px solid #d1d9e0;border-radius:8px;padding:.75rem;margin:.5rem 0}
.status{font-size:.8rem;font-weight:600;padding:.1rem .4rem;border-radius:4px;background:#fff1e5;color:#953800}
.status.ACTIVE{background:#dafbe1;color:#116329}
button{font:inherit;border-radius:6px;border:1px solid #d1d9e0;padding:.4rem .9rem;background:#f6f8fa;cursor:pointer}
button.primary{background:#1f883d;color:#fff;border-color:#1f883d}
.row{display:flex;gap:.5rem;align-items:center;justify-content:space-between}
.notice{background:#fff8c5;border-radius:6px;padding:.5rem .75rem}
img.logo{width:2.5rem;height:2.5rem;border-radius:8px}`;

function page(title: string, nonce: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Switchboard</title><style nonce="${nonce}">${STYLE}</style></head>
<body><main role="main">${body}</main></body></html>`;
}

export function errorPage(nonce: string, title: string, message: string, detail?: string): string {
  return page(
    title,
    nonce,
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${detail ? `<p><small>${escapeHtml(detail)}</small></p>` : ''}`,
  );
}

/**
 * The consent page: who asks (the client, and where it will be sent), for which tools, and
 * each connection with the user's status and a connect button, then allow or deny. Forms
 * carry the request's CSRF token and the consent URL's secret; the request itself is bound to
 * this browser by a cookie.
 */
export function consentPage(view: ConsentView, nonce: string, notice?: string): string {
  const base = `/mcp-oauth/consent/${encodeURIComponent(view.requestId)}`;
  const hidden = `<input type="hidden" name="consent_secret" value="${escapeHtml(view.consentSecret)}"><input type="hidden" name="csrf" value="${escapeHtml(view.csrfToken)}">`;
  // The page again, also after a refused decision (whose address is the form's, without the secret).
  const reload = `${base}?consent_secret=${encodeURIComponent(view.consentSecret)}`;
  const connections = view.connections
    .map((c) => {
      const connect =
        c.status === 'ACTIVE'
          ? ''
          : `<form method="post" action="${base}/connect" target="_blank">${hidden}<input type="hidden" name="connection" value="${escapeHtml(c.connectionName)}"><button type="submit">Connect ${escapeHtml(c.provider)}</button></form>`;
      return `<li><div class="row"><strong>${escapeHtml(c.connectionName)}</strong><span class="status ${escapeHtml(c.status)}" data-connection="${escapeHtml(c.connectionName)}">${escapeHtml(c.status)}</span></div>
<small>Tools: ${c.tools.map(escapeHtml).join(', ') || 'none'}</small>${connect}</li>`;
    })
    .join('\n');
  const blocked = view.requireActiveAccounts && !view.ready;
  const logo = view.clientLogo ? `<img class="logo" src="${escapeHtml(view.clientLogo)}" alt="">` : '';
  return page(
    `Allow ${view.clientName}`,
    nonce,
    `${logo}<h1>Allow <span id="client-name">${escapeHtml(view.clientName)}</span> to use ${escapeHtml(view.config.name)} for ${escapeHtml(view.identifier)}?</h1>
<p><small>The client will be sent back to ${escapeHtml(view.redirectHost)}.</small></p>
${notice ? `<p class="notice" role="alert">${escapeHtml(notice)}</p>` : ''}
<ul>${connections}</ul>
${blocked ? `<p><small>Connect every account above (it opens in a new tab), then <a href="${escapeHtml(reload)}">reload this page</a>.</small></p>` : ''}
<div class="row"><form method="post" action="${base}">${hidden}<input type="hidden" name="decision" value="deny"><button type="submit">Deny</button></form>
<form method="post" action="${base}">${hidden}<input type="hidden" name="decision" value="allow"><button class="primary" type="submit"${blocked ? ' disabled' : ''}>Allow</button></form></div>`,
  );
}
