import type { Transport } from './transport.js';
import type { ApiClient, ApiClientList, CreateApiClientInput, IssuedApiClient } from './types.js';

const path = (id: string) => `/api/v1/clients/${encodeURIComponent(id)}`;

/** Management API clients (credentials like the ones this SDK uses). Every call needs an admin client. */
export class ApiClients {
  constructor(private readonly http: Transport) {}

  /** Creates a client; the answer holds its `client_secret`, shown only this once. */
  async create(input: CreateApiClientInput): Promise<IssuedApiClient> {
    const answer = await this.http.request<{ client: IssuedApiClient }>({
      method: 'POST',
      path: '/api/v1/clients',
      body: input,
    });
    return answer.client;
  }

  /** Every client, revoked ones included. */
  list(): Promise<ApiClientList> {
    return this.http.request<ApiClientList>({ method: 'GET', path: '/api/v1/clients', idempotent: true });
  }

  /** One client by id (`cli_…`) or client_id. @throws SwitchboardError `not_found`. */
  async get(id: string): Promise<ApiClient> {
    const answer = await this.http.request<{ client: ApiClient }>({ method: 'GET', path: path(id), idempotent: true });
    return answer.client;
  }

  /** Revokes a client: it gets no new tokens, and its access tokens stop working within a second. */
  async revoke(id: string): Promise<ApiClient> {
    const answer = await this.http.request<{ client: ApiClient }>({
      method: 'POST',
      path: `${path(id)}:revoke`,
      idempotent: true,
    });
    return answer.client;
  }

  /** Issues a new secret; the old secret and every access token issued with it stop working. */
  async rotateSecret(id: string): Promise<IssuedApiClient> {
    const answer = await this.http.request<{ client: IssuedApiClient }>({
      method: 'POST',
      path: `${path(id)}:rotate_secret`,
    });
    return answer.client;
  }
}
