import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { hashSecret, newSecret, safeEqual } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { isLoopbackHost } from './addresses.js';
import type { DocumentFetcher } from './document-fetcher.js';
import { OAuthError } from './oauth-error.js';
import { acceptableRedirectUri } from './redirect-uris.js';
import './tables.js';

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** A client as the authorization server needs it, however it was registered. */
export interface OAuthClientInfo {
  clientId: string;
  name: string;
  logoUri: string | undefined;
  redirectUris: string[];
  authMethod: TokenEndpointAuthMethod;
  secretHash: string | undefined;
  /** Registered by a metadata document at its URL (CIMD), else dynamically (RFC 7591). */
  kind: 'metadata_document' | 'registered';
}

const httpsUrl = z.url({ protocol: /^https$/ }).max(2000);

/** RFC 7591 §2 client metadata, as registration takes it (and the API reference lists it); other fields are kept out. */
export const clientMetadata = z.object({
  redirect_uris: z.array(z.string().max(2000)).min(1).max(20),
  client_name: z.string().min(1).max(200).optional(),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  grant_types: z.array(z.string()).max(10).optional(),
  response_types: z.array(z.string()).max(10).optional(),
  logo_uri: httpsUrl.optional(),
  client_uri: httpsUrl.optional(),
  scope: z.string().max(1000).optional(),
});

/** A metadata document's client_id is its own URL (draft-ietf-oauth-client-id-metadata-document §3). */
const metadataDocument = clientMetadata.extend({ client_id: z.string() });

const SUPPORTED_GRANTS = new Set(['authorization_code', 'refresh_token']);

/** Documents are remembered this long (the draft lets servers cache by HTTP rules; we keep it simple and short). */
const DOCUMENT_CACHE_MS = 5 * 60_000;
const MAX_CACHED_DOCUMENTS = 1_000;
/** A metadata document larger than this is refused. */
export const MAX_METADATA_DOCUMENT_BYTES = 64 * 1024;

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  config: Config;
  documents: DocumentFetcher;
}

function clientMetadataError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(metadata)'}: ${issue.message}`).join('; ');
}

function checkMetadata(metadata: z.output<typeof clientMetadata>, code: 'invalid_client_metadata' | 'invalid_client') {
  const badUri = metadata.redirect_uris.find((uri) => !acceptableRedirectUri(uri));
  if (badUri) {
    throw new OAuthError(
      code === 'invalid_client' ? 'invalid_client' : 'invalid_redirect_uri',
      `redirect_uris: ${badUri} is not allowed (https, http on loopback, or a private-use scheme)`,
    );
  }
  const grants = metadata.grant_types ?? ['authorization_code'];
  if (grants.some((grant) => !SUPPORTED_GRANTS.has(grant)) || !grants.includes('authorization_code')) {
    throw new OAuthError(code, 'grant_types: only authorization_code and refresh_token are supported');
  }
  if ((metadata.response_types ?? ['code']).some((type) => type !== 'code')) {
    throw new OAuthError(code, 'response_types: only code is supported');
  }
}

/**
 * The OAuth clients of MCP clients: registered dynamically (RFC 7591), or named by the URL of
 * their metadata document (Client ID Metadata Documents), which is fetched safely and cached.
 */
export class McpOAuthClients {
  private readonly documents = new Map<string, { client: OAuthClientInfo; until: number }>();

  constructor(private readonly deps: Deps) {}

  /** Whether a client_id names a metadata document rather than a registered client. */
  isMetadataUrl(clientId: string): boolean {
    if (clientId.startsWith('https://')) return true;
    if (!this.deps.config.mcpOAuth.loopbackMetadataForTests || !clientId.startsWith('http://')) return false;
    try {
      return isLoopbackHost(new URL(clientId).hostname);
    } catch {
      return false;
    }
  }

  /** RFC 7591 registration. A confidential method gets a secret, shown once. */
  async register(body: unknown): Promise<Record<string, unknown>> {
    if (!this.deps.config.mcpOAuth.registration) {
      throw new OAuthError('invalid_request', 'dynamic client registration is turned off on this server');
    }
    const parsed = clientMetadata.safeParse(body);
    if (!parsed.success) throw new OAuthError('invalid_client_metadata', clientMetadataError(parsed.error));
    const metadata = parsed.data;
    checkMetadata(metadata, 'invalid_client_metadata');
    const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
    const clientId = `mcpc_${newSecret(18)}`;
    const secret = method === 'none' ? undefined : newSecret(32);
    const issuedAt = Math.floor(this.deps.clock.now() / 1000);
    const name = metadata.client_name ?? 'Unnamed MCP client';
    await this.deps.db
      .insertInto('mcp_oauth_clients')
      .values({
        client_id: clientId,
        client_name: name,
        redirect_uris: JSON.stringify(metadata.redirect_uris),
        token_endpoint_auth_method: method,
        secret_hash: secret ? hashSecret(secret) : null,
        logo_uri: metadata.logo_uri ?? null,
        client_uri: metadata.client_uri ?? null,
        created_at: new Date(this.deps.clock.now()).toISOString(),
      })
      .execute();
    return {
      client_id: clientId,
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      client_id_issued_at: issuedAt,
      client_name: name,
      redirect_uris: metadata.redirect_uris,
      token_endpoint_auth_method: method,
      grant_types: metadata.grant_types ?? ['authorization_code'],
      response_types: ['code'],
      ...(metadata.logo_uri ? { logo_uri: metadata.logo_uri } : {}),
      ...(metadata.client_uri ? { client_uri: metadata.client_uri } : {}),
    };
  }

  /** The client behind a client_id; OAuthError invalid_client when there is none usable. */
  async resolve(clientId: string): Promise<OAuthClientInfo> {
    if (!clientId || clientId.length > 2000) throw new OAuthError('invalid_client', 'client_id is missing or too long');
    if (this.isMetadataUrl(clientId)) return this.fromDocument(clientId);
    const row = await this.deps.db
      .selectFrom('mcp_oauth_clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    if (!row) throw new OAuthError('invalid_client', 'this client_id is not registered here');
    return {
      clientId: row.client_id,
      name: row.client_name,
      logoUri: row.logo_uri ?? undefined,
      redirectUris: JSON.parse(row.redirect_uris) as string[],
      authMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
      secretHash: row.secret_hash ?? undefined,
      kind: 'registered',
    };
  }

  /** Client authentication at the token and revocation endpoints (RFC 6749 §2.3). */
  authenticate(client: OAuthClientInfo, presented: { secret?: string; method: 'basic' | 'post' | 'none' }): void {
    if (client.authMethod === 'none') {
      if (presented.secret) throw new OAuthError('invalid_client', 'this client is public and has no secret');
      return;
    }
    const expected = client.authMethod === 'client_secret_basic' ? 'basic' : 'post';
    if (
      !presented.secret ||
      presented.method !== expected ||
      !client.secretHash ||
      !safeEqual(hashSecret(presented.secret), client.secretHash)
    ) {
      throw new OAuthError('invalid_client', `authenticate the client with ${client.authMethod}`);
    }
  }

  private async fromDocument(url: string): Promise<OAuthClientInfo> {
    if (!this.deps.config.mcpOAuth.clientMetadataDocuments) {
      throw new OAuthError('invalid_client', 'client metadata documents are turned off on this server');
    }
    const parsedUrl = new URL(url);
    if (parsedUrl.pathname === '/' || parsedUrl.hash) {
      throw new OAuthError('invalid_client', 'a metadata document URL needs a path and no fragment');
    }
    const now = this.deps.clock.now();
    const cached = this.documents.get(url);
    if (cached && cached.until > now) return cached.client;
    let body: unknown;
    try {
      body = await this.deps.documents.fetchJson(url);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : 'fetch failed';
      throw new OAuthError('invalid_client', `the client metadata document could not be fetched: ${reason}`, { cause });
    }
    const parsed = metadataDocument.safeParse(body);
    if (!parsed.success) {
      throw new OAuthError(
        'invalid_client',
        `the client metadata document is invalid: ${clientMetadataError(parsed.error)}`,
      );
    }
    const document = parsed.data;
    if (document.client_id !== url) {
      throw new OAuthError('invalid_client', 'the metadata document names another client_id than its URL');
    }
    const method = document.token_endpoint_auth_method ?? 'none';
    if (method !== 'none') {
      throw new OAuthError('invalid_client', 'a metadata-document client must use token_endpoint_auth_method none');
    }
    checkMetadata(document, 'invalid_client');
    const client: OAuthClientInfo = {
      clientId: url,
      name: document.client_name ?? parsedUrl.hostname,
      logoUri: document.logo_uri,
      redirectUris: document.redirect_uris,
      authMethod: 'none',
      secretHash: undefined,
      kind: 'metadata_document',
    };
    if (this.documents.size >= MAX_CACHED_DOCUMENTS) this.documents.clear();
    this.documents.set(url, { client, until: now + DOCUMENT_CACHE_MS });
    return client;
  }
}
