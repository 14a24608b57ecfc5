/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A small, self-contained page for the people who click authentication links. */
export function statusPage(options: {
  title: string;
  message: string;
  tone: 'success' | 'error';
  detail?: string;
}): string {
  const color = options.tone === 'success' ? '#137333' : '#b3261e';
  const icon = options.tone === 'success' ? '✓' : '!';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(options.title)} · Switchboard</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f7f9;color:#1f2328;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12);padding:2rem;max-width:28rem;margin:1rem}
.icon{width:3rem;height:3rem;border-radius:50%;display:grid;place-items:center;color:#fff;font-size:1.5rem;background:${color}}
h1{font-size:1.3rem;margin:1rem 0 .5rem}p{line-height:1.5}small{color:#59636e}
</style></head>
<body><main role="main"><div class="icon" aria-hidden="true">${icon}</div>
<h1>${escapeHtml(options.title)}</h1><p>${escapeHtml(options.message)}</p>
${options.detail ? `<p><small>${escapeHtml(options.detail)}</small></p>` : ''}
</main></body></html>`;
}
