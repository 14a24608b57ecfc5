import type { SandboxUser } from '../context.js';
import { describeScope } from '../scopes.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f1f3f4; margin: 0; padding: 40px 16px; color: #202124; }
  main { max-width: 460px; margin: auto; background: #fff; border-radius: 8px; padding: 32px; box-shadow: 0 1px 3px #0003; }
  h1 { font-size: 22px; font-weight: 400; margin: 0 0 8px; }
  .banner { font-size: 12px; color: #5f6368; margin-bottom: 16px; }
  fieldset { border: 0; padding: 0; margin: 16px 0; }
  legend { font-weight: 500; margin-bottom: 8px; }
  label { display: flex; gap: 10px; align-items: flex-start; padding: 8px; border-radius: 4px; cursor: pointer; }
  label:hover { background: #f8f9fa; }
  small { color: #5f6368; display: block; word-break: break-all; }
  .actions { display: flex; justify-content: flex-end; gap: 8px; margin-top: 24px; }
  button { font-size: 14px; padding: 8px 24px; border-radius: 4px; border: 1px solid #dadce0; background: #fff; cursor: pointer; }
  button.allow { background: #1a73e8; color: #fff; border-color: #1a73e8; }
  code { background: #f1f3f4; padding: 2px 4px; border-radius: 3px; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main><div class="banner">Switchboard sandbox — an offline stand-in for Google sign-in</div>${body}</main></body></html>`;
}

export interface ConsentPageInput {
  action: string;
  requestId: string;
  clientId: string;
  redirectUri: string;
  users: SandboxUser[];
  selectedEmail: string | undefined;
  scopes: string[];
}

export function renderConsentPage(input: ConsentPageInput): string {
  const selected = input.users.find((user) => user.email === input.selectedEmail) ?? input.users[0];
  const users = input.users
    .map(
      (user) =>
        `<label><input type="radio" name="user" value="${escapeHtml(user.email)}"${
          user === selected ? ' checked' : ''
        }><span>${escapeHtml(user.name)}<small>${escapeHtml(user.email)}</small></span></label>`,
    )
    .join('\n');
  const scopes = input.scopes
    .map(
      (scope) =>
        `<label><input type="checkbox" name="scope" value="${escapeHtml(scope)}" checked><span>${escapeHtml(
          describeScope(scope),
        )}<small>${escapeHtml(scope)}</small></span></label>`,
    )
    .join('\n');
  const host = URL.canParse(input.redirectUri) ? new URL(input.redirectUri).host : input.redirectUri;
  return page(
    'Sign in - Google Accounts (sandbox)',
    `<h1>Choose an account</h1>
<p><code>${escapeHtml(input.clientId)}</code> wants to access your Google Account and will return you to <code>${escapeHtml(host)}</code>.</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="request" value="${escapeHtml(input.requestId)}">
<fieldset><legend>Account</legend>${users}</fieldset>
<fieldset><legend>This app wants to</legend>${scopes}</fieldset>
<div class="actions"><button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow" class="allow">Allow</button></div>
</form>`,
  );
}

/** What Google shows instead of redirecting when it cannot trust the redirect URI. */
export function renderErrorPage(error: string, description: string): string {
  return page(
    `Error: ${error}`,
    `<h1>Access blocked: this request is invalid</h1>
<p><strong>Error 400: ${escapeHtml(error)}</strong></p>
<p>${escapeHtml(description)}</p>`,
  );
}
