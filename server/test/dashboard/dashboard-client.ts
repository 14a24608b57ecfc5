import type { Stack } from '../support/stack.js';

/** A cookie-keeping HTTP client of the dashboard, as a browser without script would be. */
export class DashboardClient {
  readonly cookies = new Map<string, string>();

  constructor(private readonly stack: Stack) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string): Promise<Response> {
    const response = await this.stack.fetch(`${this.stack.url}${path}`, {
      headers: { cookie: this.cookieHeader() },
      redirect: 'manual',
    });
    this.remember(response);
    return response;
  }

  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    const response = await this.stack.fetch(`${this.stack.url}${path}`, {
      method: 'POST',
      headers: {
        cookie: this.cookieHeader(),
        origin: this.stack.url,
        'content-type': 'application/x-www-form-urlencoded',
        ...headers,
      },
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
    this.remember(response);
    return response;
  }

  /** The value of a hidden input named `name` in a page. */
  static hidden(page: string, name: string): string {
    const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
    if (!match?.[1]) throw new Error(`no hidden field ${name}`);
    return match[1];
  }

  /** Signs in with the stack's admin credentials; returns the CSRF token of the session. */
  async signIn(): Promise<string> {
    const form = await (await this.get('/dashboard/sign-in')).text();
    const signedIn = await this.post('/dashboard/sign-in', {
      _csrf: DashboardClient.hidden(form, '_csrf'),
      next: '/dashboard/connections',
      client_id: this.stack.admin.client_id,
      client_secret: this.stack.admin.client_secret,
    });
    if (signedIn.status !== 303) throw new Error(`sign-in failed: ${signedIn.status}`);
    const page = await (await this.get('/dashboard/connections')).text();
    const token = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1];
    if (!token) throw new Error('no csrf token on the page');
    return token;
  }
}
