import type { z } from 'zod';

/** OAuth 2.0 endpoints of a provider, as the real provider publishes them. */
export interface OAuthEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  userinfoEndpoint?: string;
  /** Extra query parameters on the authorize URL (e.g. Google's offline access). */
  authorizeParams?: Record<string, string>;
  /** Scopes always requested besides the connection's, e.g. to read the user's email. */
  identityScopes?: string[];
}

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
  /** Absolute URL at one of the provider's declared API hosts (real Google URL). */
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
 * 429/5xx, refreshes once on 401, and turns failures into ProviderError.
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
}

export interface ToolDefinition<Input extends z.ZodType = z.ZodType> {
  /** Name exactly as in the reference signatures, e.g. `gmail_fetch_mails`. */
  name: string;
  /** For the LLM: what it does, when to use it, what it returns. */
  description: string;
  input: Input;
  annotations: ToolAnnotations;
  /** Any one of these OAuth scopes lets the tool run (Google accepts several per method). */
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
  oauth: OAuthEndpoints;
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
