import type { Config } from '../config.js';

/** Headers a browser client of an allowed origin may send and read (Streamable HTTP). */
const CORS_ALLOW_HEADERS = 'content-type, accept, authorization, mcp-protocol-version, mcp-session-id, last-event-id';
const CORS_EXPOSE_HEADERS = 'mcp-session-id, mcp-protocol-version, www-authenticate';

export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { jsonrpc: '2.0', error: { code, message }, id: null },
    { status, headers: { 'cache-control': 'no-store', ...headers } },
  );
}

function normalizeOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

/**
 * DNS-rebinding defence for the MCP endpoint (spec: transports, security warning): the Host
 * header must name this server, and a browser's Origin must be this server's own origin or
 * one the operator allowed. Non-browser clients send no Origin and pass on Host alone.
 */
export class RequestGuard {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;
  private readonly ownOrigin: string;
  /** The public URL's default port as a Host header may spell it (`:443`), which names no other server. */
  private readonly defaultPort: string;

  constructor(config: Config) {
    this.defaultPort = new URL(config.publicUrl).protocol === 'https:' ? ':443' : ':80';
    this.hosts = new Set(config.allowedHosts.map((h) => this.named(h)));
    this.ownOrigin = new URL(config.publicUrl).origin;
    this.origins = new Set(config.allowedOrigins.flatMap((o) => normalizeOrigin(o) ?? []));
  }

  /** A rejection response, or undefined when the request may proceed. */
  reject(request: Request): Response | undefined {
    const host = request.headers.get('host');
    if (!host || !this.hosts.has(this.named(host)))
      return jsonRpcError(403, -32000, 'Forbidden: the Host header does not name this server');
    const origin = request.headers.get('origin');
    if (origin !== null && !this.allowsOrigin(origin)) {
      // The next step, named: a browser-based client (MCP Inspector's UI, a web agent) is let in by the operator.
      const allowed = normalizeOrigin(origin);
      return jsonRpcError(
        403,
        -32000,
        allowed
          ? `Forbidden: requests from the Origin ${allowed} are not allowed; the operator can allow it with SWITCHBOARD_ALLOWED_ORIGINS=${allowed} (comma-separated origins)`
          : 'Forbidden: requests from this Origin are not allowed; browser clients need an origin listed in SWITCHBOARD_ALLOWED_ORIGINS',
      );
    }
    return undefined;
  }

  /** A host as compared: lower case, without the public URL's default port. */
  private named(host: string): string {
    const lower = host.toLowerCase();
    return lower.endsWith(this.defaultPort) ? lower.slice(0, -this.defaultPort.length) : lower;
  }

  private allowsOrigin(origin: string): boolean {
    const normalized = normalizeOrigin(origin);
    return normalized !== undefined && (normalized === this.ownOrigin || this.origins.has(normalized));
  }

  /** CORS headers for a cross-origin browser client the operator allowed; none otherwise. */
  corsHeaders(request: Request): Record<string, string> {
    const origin = request.headers.get('origin');
    const normalized = origin ? normalizeOrigin(origin) : undefined;
    if (!normalized || normalized === this.ownOrigin || !this.origins.has(normalized)) return {};
    return {
      'access-control-allow-origin': normalized,
      'access-control-expose-headers': CORS_EXPOSE_HEADERS,
      vary: 'origin',
    };
  }

  preflight(request: Request): Response {
    const cors = this.corsHeaders(request);
    return new Response(null, {
      status: 204,
      headers: {
        ...cors,
        ...(cors['access-control-allow-origin']
          ? {
              'access-control-allow-methods': 'POST, GET, DELETE',
              'access-control-allow-headers': CORS_ALLOW_HEADERS,
              'access-control-max-age': '600',
            }
          : {}),
      },
    });
  }
}
