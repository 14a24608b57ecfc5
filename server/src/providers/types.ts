import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';

/**
 * How a provider does OAuth 2.0: its endpoints, and hooks for where it departs from the
 * RFCs. Every hook is optional; without it the engine (oauth/client.ts) does what RFC 6749,
 * RFC 7636 (PKCE), RFC 7009 (revocation) and OpenID Connect userinfo say.
 */
export interface ProviderOAuth {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  userinfoEndpoint?: string;
  /** Extra query parameters on the authorize URL (e.g. Google's offline access). */
  authorizeParams?: Record<string, string>;
  /** Scopes always requested besides the connection's, e.g. to read the user's email. */
  identityScopes?: string[];
  /** Joins scopes on the authorize URL and splits a granted `scope`; default a space (RFC 6749 §3.3). */
  scopeSeparator?: string;
  /** The authorize URL parameter that carries the scopes; default `scope`. */
  scopeParameter?: string;
  /** `false` for a provider that refuses PKCE; default true: S256 on every consent. */
  pkce?: boolean;
  /**
   * Reads the token endpoint's answer (code exchange and refresh) when it is not RFC 6749
   * §5.1/§5.2 JSON; default: oauth4webapi's strict reading. A refusal is returned, not thrown,
   * with an RFC 6749 error code (`invalid_grant` makes the account need a new consent).
   */
  readTokenResponse?(answer: ProviderAnswer): TokenResponse;
  /** Revokes a token when the provider does not follow RFC 7009; throws when it refused. */
  revoke?(request: RevokeRequest): Promise<void>;
  /** The provider account behind a token, from the userinfo endpoint's JSON; default `email`, else `sub`. */
  readIdentity?(userinfo: unknown): string | undefined;
}

/** A provider's HTTP answer, its body parsed as JSON when it is JSON. */
export interface ProviderAnswer {
  status: number;
  body: unknown;
}

/** A token endpoint's answer in RFC 6749 terms (§5.1 success, §5.2 error). */
export type TokenResponse =
  | {
      ok: true;
      accessToken: string;
      tokenType: string;
      refreshToken?: string;
      /** Seconds from now. */
      expiresIn?: number;
      /** The granted scopes as the provider wrote them, joined by its scope separator. */
      scope?: string;
    }
  | { ok: false; error: string; description?: string };

export interface RevokeRequest {
  /** The revocation endpoint, already rewritten to the sandbox when the connection targets it. */
  endpoint: string;
  token: string;
  clientId: string;
  clientSecret: string | undefined;
  fetch: typeof fetch;
  signal: AbortSignal;
}

/** The codes a provider's answer can be classified as; the others belong to the engine. */
export const PROVIDER_FAILURE_CODES = [
  'provider_unauthorized',
  'provider_forbidden',
  'provider_not_found',
  'provider_bad_request',
  'provider_rate_limited',
  'provider_unavailable',
  'provider_error',
  'insufficient_scope',
] as const satisfies readonly ErrorCode[];

export type ProviderFailureCode = (typeof PROVIDER_FAILURE_CODES)[number];

export interface ProviderFailure {
  code: ProviderFailureCode;
  /** Safe to show the caller: never a token. */
  message: string;
}

/**
 * Reads a provider's answer to a tool's request, any status including 200: a failure, or
 * undefined to leave it to the HTTP status (2xx succeeds; see providers/status-failures.ts).
 * `provider_unauthorized` makes the engine refresh the token once and try again;
 * `provider_rate_limited` makes it back off and retry.
 */
export type ErrorClassifier = (answer: ProviderAnswer) => ProviderFailure | undefined;

/** What a tool declares about itself for MCP clients (MCP ToolAnnotations). */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
  title?: string;
}

export interface ProviderRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute URL at one of the provider's declared API hosts (the real provider URL, even for the sandbox). */
  url: string;
  query?: Record<string, string | number | boolean | string[] | undefined>;
  /** JSON body; serialized by the engine. */
  body?: unknown;
  /** A raw body with its content type (e.g. message/rfc822 uploads). */
  rawBody?: { contentType: string; data: string };
  headers?: Record<string, string>;
}

/**
 * The only door from a tool to its provider. The engine rewrites the URL to the sandbox
 * when the connection targets it, adds the user's token, enforces declared hosts, retries
 * 429/5xx, refreshes once on 401, and turns failures (as the provider's `errors` hook reads
 * them, even in a 200) into ProviderError.
 * Resolves to the parsed JSON body (or undefined for 204 / empty bodies).
 */
export interface ProviderClient {
  request<T = unknown>(request: ProviderRequest): Promise<T>;
}

export interface ToolContext {
  api: ProviderClient;
  signal: AbortSignal;
  /** Time, for tools that compute dates (e.g. "now + 15 minutes" defaults). */
  now(): number;
  /**
   * The largest result (its JSON, in bytes) the engine passes on; a larger one fails whole with
   * `tool_result_too_large`. A tool that reads many items stops reading once past it.
   */
  maxResultBytes: number;
}

export interface ToolDefinition<Input extends z.ZodType = z.ZodType> {
  /** Name exactly as in the reference signatures, e.g. `gmail_fetch_mails`. */
  name: string;
  /** For the LLM: what it does, when to use it, what it returns. */
  description: string;
  input: Input;
  annotations: ToolAnnotations;
  /** Any one of these OAuth scopes lets the tool run (a provider may accept several per method). */
  scopes: string[];
  run(input: z.output<Input>, ctx: ToolContext): Promise<unknown>;
}

export interface ProviderDefinition {
  /** Catalog key, e.g. `gmail`. */
  name: string;
  displayName: string;
  description: string;
  /** Inline SVG markup for the dashboard. */
  icon: string;
  oauth: ProviderOAuth;
  /** How the provider reports a failed call, when not (only) by HTTP status; see ErrorClassifier. */
  errors?: ErrorClassifier;
  /** True when the sandbox (server/src/sandbox) emulates this provider, so a connection may target it. */
  sandbox?: boolean;
  /** Scopes requested when a connection lists none. */
  defaultScopes: string[];
  /** Origins (scheme://host) the tools may call. */
  apiOrigins: string[];
  tools: ToolDefinition[];
}

/** Typed helper so each tool file gets inference for its own input schema. */
export function defineTool<Input extends z.ZodType>(tool: ToolDefinition<Input>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}
