import { z } from 'zod';

/**
 * Everything Switchboard reads from its environment, validated once at start.
 * This is the only module that touches process.env (through `loadConfig(env)`).
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * How long a response may keep bytes waiting that its client takes none of. Node's timeouts
 * leave that unbounded (`requestTimeout` ends once the request is in, `keepAliveTimeout` starts
 * once the response is out), so clients that stopped reading held every connection. A client
 * that reads at all moves within seconds; 30 s also covers a phone changing networks, and
 * frees a held place about as fast as the request timeout does.
 */
const WRITE_STALL_TIMEOUT_MS = 30_000;

/** `points/seconds` (at most `points` requests per `seconds`), or `off`. */
const rateFromEnv = z
  .string()
  .regex(/^(off|[1-9]\d{0,8}\/[1-9]\d{0,6})$/, 'must be points/seconds (e.g. 10/60) or off')
  .transform((value): RateLimit | undefined => {
    if (value === 'off') return undefined;
    const [points, seconds] = value.split('/').map(Number) as [number, number];
    return { points, seconds };
  });

/**
 * How many proxies in front append to X-Forwarded-For: `true` (or 1) for one, 2–10 for a chain
 * (a CDN before an ingress), `false` (or 0) for none, the default.
 */
const proxiesFromEnv = z
  .string()
  .regex(/^(true|false|yes|no|10|[0-9])$/, 'must be true, false or how many proxies append X-Forwarded-For (0-10)')
  .transform((value) => {
    if (value === 'true' || value === 'yes') return 1;
    if (value === 'false' || value === 'no') return 0;
    return Number(value);
  });

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  SWITCHBOARD_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  SWITCHBOARD_PG_PREPARED_STATEMENTS: booleanFromEnv.default(true),
  SWITCHBOARD_DATA_DIR: z.string().min(1).default('.data'),
  SWITCHBOARD_ENCRYPTION_KEY: z.string().optional(),
  SWITCHBOARD_ENCRYPTION_KEYS_OLD: z.string().optional(),
  SWITCHBOARD_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  SWITCHBOARD_SANDBOX: booleanFromEnv.optional(),
  SWITCHBOARD_SANDBOX_URL: z.url({ protocol: /^https?$/ }).optional(),
  SWITCHBOARD_SANDBOX_PORT: z
    .union([z.literal('off'), z.coerce.number().int().min(0).max(65535)], {
      error: 'must be a port number (0: one the system picks) or off',
    })
    .optional(),
  SWITCHBOARD_SANDBOX_CONTROL_SECRET: z
    .string()
    .min(24, 'use at least 24 characters (make one with: openssl rand -base64 32)')
    .optional(),
  SWITCHBOARD_ADMIN_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{4,100}$/, 'use 4 to 100 letters, digits, dots, dashes or underscores')
    .optional(),
  SWITCHBOARD_ADMIN_CLIENT_SECRET: z
    .string()
    .min(32, 'use at least 32 characters (make one with: openssl rand -base64 32)')
    .max(200)
    .optional(),
  SWITCHBOARD_SANDBOX_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).default(3600),
  SWITCHBOARD_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86400).default(3600),
  SWITCHBOARD_AUTH_LINK_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(3600),
  SWITCHBOARD_LOG_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(30),
  SWITCHBOARD_ACCOUNT_EVENT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
  SWITCHBOARD_USER_VERIFY_URL: z.url({ protocol: /^https?$/ }).optional(),
  SWITCHBOARD_ALLOWED_ORIGINS: z.string().optional(),
  SWITCHBOARD_ALLOWED_HOSTS: z.string().optional(),
  SWITCHBOARD_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  SWITCHBOARD_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  SWITCHBOARD_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(125),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  SWITCHBOARD_REDIS_KEY_PREFIX: z.string().min(1).max(100).default('switchboard:'),
  SWITCHBOARD_TRUST_PROXY: proxiesFromEnv.prefault('false'),
  SWITCHBOARD_RATE_LIMIT_SIGN_IN: rateFromEnv.prefault('10/60'),
  SWITCHBOARD_RATE_LIMIT_TOKEN: rateFromEnv.prefault('60/60'),
  SWITCHBOARD_RATE_LIMIT_CONNECT: rateFromEnv.prefault('60/60'),
  SWITCHBOARD_RATE_LIMIT_MAGIC_LINK: rateFromEnv.prefault('120/60'),
  SWITCHBOARD_MAX_TOOL_CALLS_IN_FLIGHT: z.coerce.number().int().min(1).default(64),
  SWITCHBOARD_MAX_TOOL_CALLS_IN_FLIGHT_PER_USER: z.coerce.number().int().min(1).default(16),
  SWITCHBOARD_MAX_TOOL_RESULT_BYTES: z.coerce.number().int().min(1024).default(10_485_760),
  SWITCHBOARD_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  SWITCHBOARD_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  SWITCHBOARD_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(2048),
  SWITCHBOARD_WRITE_STALL_TIMEOUT_MS: z.coerce.number().int().min(100).default(WRITE_STALL_TIMEOUT_MS),
  SWITCHBOARD_TLS_CERT: z.string().min(1).optional(),
  SWITCHBOARD_TLS_KEY: z.string().min(1).optional(),
  SWITCHBOARD_TLS_SELF_SIGNED: booleanFromEnv.default(false),
  SWITCHBOARD_MCP_OAUTH: booleanFromEnv.default(true),
  SWITCHBOARD_MCP_OAUTH_LOGIN_URL: z.url({ protocol: /^https?$/ }).optional(),
  SWITCHBOARD_MCP_OAUTH_REGISTRATION: booleanFromEnv.default(true),
  SWITCHBOARD_MCP_OAUTH_CLIENT_METADATA_DOCUMENTS: booleanFromEnv.default(true),
  SWITCHBOARD_MCP_OAUTH_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(600),
  SWITCHBOARD_MCP_OAUTH_REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  SWITCHBOARD_MCP_OAUTH_METADATA_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5_000),
  SWITCHBOARD_MCP_OAUTH_TEST_LOOPBACK_METADATA: booleanFromEnv.default(false),
  SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: z.string().min(1).optional(),
  SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM: z.enum(['sub', 'email']).default('sub'),
  SWITCHBOARD_METRICS_TOKEN: z
    .string()
    .min(24, 'use at least 24 characters (make one with: openssl rand -base64 32)')
    .optional(),
  SWITCHBOARD_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SWITCHBOARD_ACCESS_LOG: booleanFromEnv.default(true),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SDK_DISABLED: booleanFromEnv.default(false),
  OTEL_SERVICE_NAME: z.string().min(1).default('switchboard'),
});

/** At most `points` requests per `seconds`, per key (client address or client id). */
export interface RateLimit {
  points: number;
  seconds: number;
}

export interface EncryptionKeyConfig {
  /** Base64 (or base64url) 32-byte key of the form `id:base64`, or just `base64` (its id is then "k" and 10 hex digits of its SHA-256). */
  current?: string;
  /** Older keys still accepted for decryption, comma separated, same form. */
  old: string[];
}

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  /**
   * Production mode, decided by rule: Postgres, or a public URL that is not this machine.
   * Then the sandbox stays off unless asked for, the encryption key must be given, and no
   * admin client is created at start (`switchboard clients create` makes the first one).
   */
  production: boolean;
  databaseUrl: string | undefined;
  /**
   * An admin API client the deployment declares (SWITCHBOARD_ADMIN_CLIENT_ID and _SECRET, e.g.
   * from a Kubernetes secret): created at start when no client has that client_id, never
   * changed after, so a rotation or revocation made since stands.
   */
  declaredAdmin?: { clientId: string; clientSecret: string };
  /** Postgres runs repeated statements as named (prepared) ones; off for a pooler that cannot carry them. */
  pgPreparedStatements: boolean;
  dataDir: string;
  encryption: EncryptionKeyConfig;
  logLevel: (typeof LOG_LEVELS)[number];
  sandbox: {
    /** Connections may target the sandbox (mounted here, or the one at SWITCHBOARD_SANDBOX_URL). */
    enabled: boolean;
    /** Serve the sandbox from this process: under `/sandbox` of the main server, and on `port`. */
    mounted: boolean;
    /**
     * The sandbox's own listener, serving it at a host root as Google's client libraries need
     * (googleapis-common 9 drops a rootUrl's path). Embedded default: PORT+1 (0 when PORT is 0);
     * undefined = only under `/sandbox` (production mode unless SWITCHBOARD_SANDBOX_PORT is set).
     */
    port: number | undefined;
    /** The port was not set explicitly: when it is taken, a port the system picks is used instead. */
    portIsDefault: boolean;
    /** Where connections that target the sandbox send their OAuth and API calls. */
    url: string;
    accessTokenTtlSeconds: number;
    /** Bearer secret the mounted sandbox's `/__sandbox` control API demands. */
    controlSecret: string | undefined;
    /** Without a secret in production, only callers on this machine may use the control API. */
    controlLoopbackOnly: boolean;
  };
  accessTokenTtlSeconds: number;
  /** How long an authentication link stays valid; it is spent by the first completed consent anyway. */
  authLinkTtlSeconds: number;
  /** Days tool_call_logs rows are kept (0: forever); expired links and auth requests go a day after expiry. */
  logRetentionDays: number;
  /** Days account_events rows (each account's history) are kept (0: forever). */
  accountEventRetentionDays: number;
  /**
   * The app page that confirms who completed a consent (user verification), unless the link
   * or its connection names one; undefined = accounts become ACTIVE at the provider's callback.
   */
  userVerifyUrl: string | undefined;
  /** Origins allowed to call the MCP endpoint from a browser; empty = same origin only. */
  allowedOrigins: string[];
  /** Host header values accepted by the MCP endpoint; always includes the public URL's host. */
  allowedHosts: string[];
  maxBodyBytes: number;
  /** V8's old-space growth per major GC, in percent (0 = V8's own, up to 4× the live heap). */
  heapGrowingPercent: number;
  providerTimeoutMs: number;
  /** Redis, when replicas share their rate limits; undefined = each process counts alone. */
  redis: { url: string; keyPrefix: string } | undefined;
  /**
   * How many proxies in front append to X-Forwarded-For; the client address is the entry that
   * many from its end (what the outermost one saw). 0 = the socket's peer.
   */
  trustedProxies: number;
  /** Requests per client address and per client id; undefined = not limited. */
  rateLimits: {
    signIn: RateLimit | undefined;
    token: RateLimit | undefined;
    connect: RateLimit | undefined;
    magicLink: RateLimit | undefined;
  };
  /**
   * Tool calls running at once, in all and per user, and the largest result (serialized JSON)
   * a call may return. In-flight counts are per process by nature: N replicas run N times as many.
   */
  toolCalls: { maxInFlight: number; maxInFlightPerUser: number; maxResultBytes: number };
  /** Limits of the HTTP server itself, against slow or too many clients. */
  http: {
    /** A request (headers and body) must have arrived within this; 408 and close otherwise. */
    requestTimeoutMs: number;
    /** The headers must have arrived within this (never more than requestTimeoutMs). */
    headersTimeoutMs: number;
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutMs: number;
    /** Open connections beyond this are closed as they arrive; keep it below `ulimit -n`. */
    maxConnections: number;
    /** A response whose client has taken none of its waiting bytes for this is cut off. */
    writeStallTimeoutMs: number;
  };
  /**
   * HTTPS on the one port (ALPN h2 and http/1.1): PEM files, or a localhost certificate made
   * in the data directory for development; undefined = cleartext HTTP/1.1 and h2c.
   */
  tls: { kind: 'files'; certFile: string; keyFile: string } | { kind: 'self-signed' } | undefined;
  /** Switchboard as the OAuth authorization server of its config URLs (mcp-auth/). */
  mcpOAuth: {
    /** The default of configs that do not say: MCP clients may sign their users in. */
    enabled: boolean;
    /** The app page that says who the user is (app hand-off), unless the config names one. */
    loginUrl: string | undefined;
    /** RFC 7591 dynamic client registration at /mcp-oauth/register. */
    registration: boolean;
    /** https URLs as client ids (Client ID Metadata Documents). */
    clientMetadataDocuments: boolean;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    /** Fetching a client's metadata document: the whole answer within this. */
    metadataTimeoutMs: number;
    /** Tests only (refused in production): metadata documents over http on loopback addresses. */
    loopbackMetadataForTests: boolean;
    /**
     * The app's OpenID Connect issuer, when users sign in there (OIDC upstream) rather than by
     * the hand-off to a login page; `claim` of its id_token becomes the identifier.
     */
    oidc: { issuer: string; clientId: string; clientSecret: string | undefined; claim: 'sub' | 'email' } | undefined;
  };
  /**
   * Prometheus metrics at /metrics: behind a bearer token on the main port, and/or alone on
   * their own port (bind it to a private address); neither set = not served (404).
   */
  metrics: { token: string | undefined; port: number | undefined };
  /** One info line per request (method, route pattern, status, duration, request and trace id). */
  accessLog: boolean;
  /** OpenTelemetry traces over OTLP/HTTP, on when an OTLP endpoint is set (the exporter reads the other OTEL_* variables). */
  tracing: { enabled: boolean; serviceName: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1: a public URL that never leaves this machine. */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Why `config` is in production mode, in words for a start-up message; undefined when it is not. */
export function productionReason(config: Pick<Config, 'production' | 'databaseUrl' | 'publicUrl'>): string | undefined {
  if (!config.production) return undefined;
  return config.databaseUrl ? 'DATABASE_URL is set' : `SWITCHBOARD_PUBLIC_URL ${config.publicUrl} is not this machine`;
}

/** The sandbox on its own port: the public URL's host name (the browser consents there), plain HTTP. */
export function sandboxRootUrl(publicUrl: string, port: number): string {
  return `http://${new URL(publicUrl).hostname}:${port}`;
}

/**
 * Parses and validates an environment. Throws ConfigError naming every bad variable.
 * `boundPort`: with PORT=0, the port the system gave the listener, which the URLs derived
 * from PORT (the default public URL, the allowed hosts) must carry instead of 0.
 */
export function loadConfig(env: Record<string, string | undefined>, options: { boundPort?: number } = {}): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  const e = parsed.data;
  const tls = tlsConfig(e);
  const port = e.PORT === 0 && options.boundPort !== undefined ? options.boundPort : e.PORT;
  const publicUrl = (e.SWITCHBOARD_PUBLIC_URL ?? `${tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, '');
  const publicHost = new URL(publicUrl).host;
  const production = e.DATABASE_URL !== undefined || !isLoopbackHostname(new URL(publicUrl).hostname);
  // The embedded default (SQLite on this machine) has the sandbox; production only when asked
  // (an external SWITCHBOARD_SANDBOX_URL is such an ask: nothing is mounted here for it).
  const sandboxEnabled = e.SWITCHBOARD_SANDBOX ?? (!production || e.SWITCHBOARD_SANDBOX_URL !== undefined);
  const sandboxMounted = sandboxEnabled && !e.SWITCHBOARD_SANDBOX_URL;
  const askedPort = e.SWITCHBOARD_SANDBOX_PORT;
  const sandboxPort =
    !sandboxMounted || askedPort === 'off'
      ? undefined
      : (askedPort ?? (production ? undefined : e.PORT === 0 ? 0 : Math.min(65535, e.PORT + 1)));
  if ((e.SWITCHBOARD_ADMIN_CLIENT_ID === undefined) !== (e.SWITCHBOARD_ADMIN_CLIENT_SECRET === undefined)) {
    throw new ConfigError([
      'SWITCHBOARD_ADMIN_CLIENT_ID and SWITCHBOARD_ADMIN_CLIENT_SECRET: give both (the declared admin client) or neither',
    ]);
  }
  if (production && e.SWITCHBOARD_MCP_OAUTH_TEST_LOOPBACK_METADATA) {
    throw new ConfigError(['SWITCHBOARD_MCP_OAUTH_TEST_LOOPBACK_METADATA: for tests only; production mode refuses it']);
  }
  return {
    port,
    host: e.HOST,
    publicUrl,
    production,
    databaseUrl: e.DATABASE_URL,
    declaredAdmin:
      e.SWITCHBOARD_ADMIN_CLIENT_ID && e.SWITCHBOARD_ADMIN_CLIENT_SECRET
        ? { clientId: e.SWITCHBOARD_ADMIN_CLIENT_ID, clientSecret: e.SWITCHBOARD_ADMIN_CLIENT_SECRET }
        : undefined,
    pgPreparedStatements: e.SWITCHBOARD_PG_PREPARED_STATEMENTS,
    dataDir: e.SWITCHBOARD_DATA_DIR,
    encryption: { current: e.SWITCHBOARD_ENCRYPTION_KEY, old: list(e.SWITCHBOARD_ENCRYPTION_KEYS_OLD) },
    logLevel: e.SWITCHBOARD_LOG_LEVEL,
    sandbox: {
      enabled: sandboxEnabled,
      mounted: sandboxMounted,
      port: sandboxPort,
      portIsDefault: e.SWITCHBOARD_SANDBOX_PORT === undefined,
      // With its own port, main.ts puts the port it got here once it listens.
      url: (
        e.SWITCHBOARD_SANDBOX_URL ??
        (sandboxPort === undefined ? `${publicUrl}/sandbox` : sandboxRootUrl(publicUrl, sandboxPort))
      ).replace(/\/+$/, ''),
      accessTokenTtlSeconds: e.SWITCHBOARD_SANDBOX_TOKEN_TTL_SECONDS,
      controlSecret: e.SWITCHBOARD_SANDBOX_CONTROL_SECRET,
      // Listening beyond loopback (HOST=0.0.0.0, as the container image does) reaches the
      // control API from the network even in the embedded default: then only this machine too.
      controlLoopbackOnly:
        (production || !isLoopbackHostname(e.HOST)) && e.SWITCHBOARD_SANDBOX_CONTROL_SECRET === undefined,
    },
    accessTokenTtlSeconds: e.SWITCHBOARD_ACCESS_TOKEN_TTL_SECONDS,
    authLinkTtlSeconds: e.SWITCHBOARD_AUTH_LINK_TTL_SECONDS,
    logRetentionDays: e.SWITCHBOARD_LOG_RETENTION_DAYS,
    accountEventRetentionDays: e.SWITCHBOARD_ACCOUNT_EVENT_RETENTION_DAYS,
    userVerifyUrl: e.SWITCHBOARD_USER_VERIFY_URL,
    allowedOrigins: list(e.SWITCHBOARD_ALLOWED_ORIGINS),
    allowedHosts: [
      ...new Set([publicHost, `localhost:${port}`, `127.0.0.1:${port}`, ...list(e.SWITCHBOARD_ALLOWED_HOSTS)]),
    ],
    maxBodyBytes: e.SWITCHBOARD_MAX_BODY_BYTES,
    heapGrowingPercent: e.SWITCHBOARD_HEAP_GROWING_PERCENT,
    providerTimeoutMs: e.SWITCHBOARD_PROVIDER_TIMEOUT_MS,
    redis: e.REDIS_URL ? { url: e.REDIS_URL, keyPrefix: e.SWITCHBOARD_REDIS_KEY_PREFIX } : undefined,
    trustedProxies: e.SWITCHBOARD_TRUST_PROXY,
    rateLimits: {
      signIn: e.SWITCHBOARD_RATE_LIMIT_SIGN_IN,
      token: e.SWITCHBOARD_RATE_LIMIT_TOKEN,
      connect: e.SWITCHBOARD_RATE_LIMIT_CONNECT,
      magicLink: e.SWITCHBOARD_RATE_LIMIT_MAGIC_LINK,
    },
    toolCalls: {
      maxInFlight: e.SWITCHBOARD_MAX_TOOL_CALLS_IN_FLIGHT,
      maxInFlightPerUser: e.SWITCHBOARD_MAX_TOOL_CALLS_IN_FLIGHT_PER_USER,
      maxResultBytes: e.SWITCHBOARD_MAX_TOOL_RESULT_BYTES,
    },
    http: {
      requestTimeoutMs: e.SWITCHBOARD_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: Math.min(e.SWITCHBOARD_HEADERS_TIMEOUT_MS, e.SWITCHBOARD_REQUEST_TIMEOUT_MS),
      keepAliveTimeoutMs: e.SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.SWITCHBOARD_MAX_CONNECTIONS,
      writeStallTimeoutMs: e.SWITCHBOARD_WRITE_STALL_TIMEOUT_MS,
    },
    tls,
    mcpOAuth: {
      enabled: e.SWITCHBOARD_MCP_OAUTH,
      loginUrl: e.SWITCHBOARD_MCP_OAUTH_LOGIN_URL,
      registration: e.SWITCHBOARD_MCP_OAUTH_REGISTRATION,
      clientMetadataDocuments: e.SWITCHBOARD_MCP_OAUTH_CLIENT_METADATA_DOCUMENTS,
      accessTokenTtlSeconds: e.SWITCHBOARD_MCP_OAUTH_ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.SWITCHBOARD_MCP_OAUTH_REFRESH_TOKEN_TTL_DAYS * 86_400,
      metadataTimeoutMs: e.SWITCHBOARD_MCP_OAUTH_METADATA_TIMEOUT_MS,
      loopbackMetadataForTests: e.SWITCHBOARD_MCP_OAUTH_TEST_LOOPBACK_METADATA,
      oidc: mcpOAuthOidc(e),
    },
    metrics: { token: e.SWITCHBOARD_METRICS_TOKEN, port: e.SWITCHBOARD_METRICS_PORT },
    accessLog: e.SWITCHBOARD_ACCESS_LOG,
    tracing: {
      enabled:
        !e.OTEL_SDK_DISABLED &&
        (e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined),
      serviceName: e.OTEL_SERVICE_NAME,
    },
  };
}

function mcpOAuthOidc(e: z.output<typeof envSchema>): Config['mcpOAuth']['oidc'] {
  if (!e.SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER) return undefined;
  if (!e.SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID) {
    throw new ConfigError([
      'SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID: the OIDC issuer needs the client id registered there',
    ]);
  }
  // The issuer's keys and tokens decide who signs in: over plain http, anyone on the path could.
  const issuer = new URL(e.SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER);
  if (issuer.protocol === 'http:' && !isLoopbackHostname(issuer.hostname)) {
    throw new ConfigError([
      'SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER: must be an https URL (plain http only for an issuer on this machine)',
    ]);
  }
  return {
    issuer: e.SWITCHBOARD_MCP_OAUTH_OIDC_ISSUER.replace(/\/+$/, ''),
    clientId: e.SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_ID,
    clientSecret: e.SWITCHBOARD_MCP_OAUTH_OIDC_CLIENT_SECRET,
    claim: e.SWITCHBOARD_MCP_OAUTH_OIDC_CLAIM,
  };
}

function tlsConfig(e: z.output<typeof envSchema>): Config['tls'] {
  const files = e.SWITCHBOARD_TLS_CERT !== undefined || e.SWITCHBOARD_TLS_KEY !== undefined;
  if (files && e.SWITCHBOARD_TLS_SELF_SIGNED) {
    throw new ConfigError([
      'SWITCHBOARD_TLS_SELF_SIGNED: set it, or SWITCHBOARD_TLS_CERT and SWITCHBOARD_TLS_KEY, not both',
    ]);
  }
  if (e.SWITCHBOARD_TLS_SELF_SIGNED) return { kind: 'self-signed' };
  if (!files) return undefined;
  if (!e.SWITCHBOARD_TLS_CERT || !e.SWITCHBOARD_TLS_KEY) {
    throw new ConfigError([
      `${e.SWITCHBOARD_TLS_CERT ? 'SWITCHBOARD_TLS_KEY' : 'SWITCHBOARD_TLS_CERT'}: HTTPS needs both the certificate and the key (PEM file paths)`,
    ]);
  }
  return { kind: 'files', certFile: e.SWITCHBOARD_TLS_CERT, keyFile: e.SWITCHBOARD_TLS_KEY };
}
