import type { Transport } from './transport.js';
import type {
  Connection,
  ConnectionList,
  CreateConnectionInput,
  ListConnectionsParams,
  UpdateConnectionInput,
} from './types.js';

const path = (id: string) => `/api/v1/connections/${encodeURIComponent(id)}`;

/** Connections: a provider plus the OAuth app that users consent to (e.g. `MY_GMAIL` → `gmail`). */
export class Connections {
  constructor(private readonly http: Transport) {}

  /**
   * Creates a connection. Without OAuth app credentials it targets the built-in sandbox.
   * @throws SwitchboardError `already_exists` when the name is taken, `validation_failed` for bad input.
   */
  async create(input: CreateConnectionInput): Promise<Connection> {
    const answer = await this.http.request<{ connection: Connection }>({
      method: 'POST',
      path: '/api/v1/connections',
      body: input,
    });
    return answer.connection;
  }

  /** Lists connections, optionally of one provider; one page at a time. */
  list(params: ListConnectionsParams = {}): Promise<ConnectionList> {
    return this.http.request<ConnectionList>({
      method: 'GET',
      path: '/api/v1/connections',
      query: { ...params },
      idempotent: true,
    });
  }

  /** Gets one connection by id. @throws SwitchboardError `not_found`. */
  async get(id: string): Promise<Connection> {
    const answer = await this.http.request<{ connection: Connection }>({
      method: 'GET',
      path: path(id),
      idempotent: true,
    });
    return answer.connection;
  }

  /** Changes a connection's name, target, OAuth app or scopes; omitted fields stay as they are. */
  async update(id: string, input: UpdateConnectionInput): Promise<Connection> {
    const answer = await this.http.request<{ connection: Connection }>({
      method: 'PATCH',
      path: path(id),
      body: input,
      idempotent: true,
    });
    return answer.connection;
  }

  /** Deletes a connection and the connected accounts that use it. */
  async delete(id: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: path(id), idempotent: true });
  }
}
