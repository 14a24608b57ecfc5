/**
 * A browser as the OAuth flow needs one: a cookie jar (name, value, path per origin) and
 * manual redirects, so a test sees every hop. Only what Set-Cookie attributes the server uses.
 */
export class TestBrowser {
  private readonly jar = new Map<string, { name: string; value: string; path: string }[]>();

  constructor(private readonly fetchFn: typeof fetch = fetch) {}

  private cookiesFor(url: URL): string {
    return (this.jar.get(url.origin) ?? [])
      .filter((cookie) => url.pathname === cookie.path || url.pathname.startsWith(`${cookie.path.replace(/\/$/, '')}/`))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const [name = '', value = ''] = pair.split('=');
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const list = (this.jar.get(url.origin) ?? []).filter((c) => !(c.name === name && c.path === path));
      list.push({ name, value, path });
      this.jar.set(url.origin, list);
    }
  }

  /** One request, no redirect followed. */
  async request(
    target: string | URL,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = new URL(target);
    const headers: Record<string, string> = {};
    const cookies = this.cookiesFor(url);
    if (cookies) headers.cookie = cookies;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await this.fetchFn(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body: init.form ? new URLSearchParams(init.form) : undefined,
      redirect: 'manual',
    });
    this.store(url, response);
    return response;
  }

  /** Follows redirects from `target` until `stop(url)` says the next hop is not ours to open. */
  async follow(
    target: string | URL,
    stop: (url: URL) => boolean,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ response: Response; url: URL }> {
    let url = new URL(target);
    let response = await this.request(url, init);
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url };
      url = new URL(location, url);
      if (stop(url)) return { response, url };
      response = await this.request(url);
    }
    throw new Error('too many redirects');
  }
}

/** The hidden inputs of the form whose action ends with `actionSuffix` and that has `name=value`. */
export function formFields(html: string, actionSuffix: string, has?: [string, string]): Record<string, string> {
  for (const match of html.matchAll(/<form method="post" action="([^"]+)"[^>]*>(.*?)<\/form>/gs)) {
    if (!match[1]?.endsWith(actionSuffix)) continue;
    const fields: Record<string, string> = {};
    for (const input of (match[2] ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      fields[input[1] as string] = (input[2] as string).replace(/&#(\d+);/g, (_, code) =>
        String.fromCharCode(Number(code)),
      );
    }
    if (!has || fields[has[0]] === has[1]) return fields;
  }
  throw new Error(`no form for ${actionSuffix}`);
}
