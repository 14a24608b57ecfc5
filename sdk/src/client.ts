import { ApiClients } from './clients.js';
import { ConnectedAccounts } from './connected-accounts.js';
import { Connections } from './connections.js';
import { Logs } from './logs.js';
import { Mcp } from './mcp.js';
import { Tools } from './tools.js';
import { Transport, type TransportOptions } from './transport.js';

export type SwitchboardOptions = TransportOptions;

/**
 * A typed client of the Switchboard REST API.
 *
 * ```ts
 * const switchboard = new Switchboard({ url: 'http://localhost:3000', clientId, clientSecret });
 * await switchboard.connections.create({ name: 'MY_GMAIL', provider: 'gmail' });
 * ```
 *
 * It fetches the management access token with the client credentials, caches it and renews it
 * before it expires. Every failure is a {@link SwitchboardError}.
 */
export class Switchboard {
  /** Connections: providers with their OAuth apps. */
  readonly connections: Connections;
  /** Users' grants on connections, and the links that create them. */
  readonly connectedAccounts: ConnectedAccounts;
  /** The tool catalog and tool execution over REST. */
  readonly tools: Tools;
  /** MCP configs, per-user instances, auth state and session tokens. */
  readonly mcp: Mcp;
  /** The audit log of tool calls. */
  readonly logs: Logs;
  /** Management API clients: list, create, revoke, rotate secret (admin clients only). */
  readonly clients: ApiClients;
  private readonly transport: Transport;

  /** @throws TypeError when `url`, `clientId` or `clientSecret` is missing. */
  constructor(options: SwitchboardOptions) {
    this.transport = new Transport(options);
    this.connections = new Connections(this.transport);
    this.connectedAccounts = new ConnectedAccounts(this.transport);
    this.tools = new Tools(this.transport);
    this.mcp = new Mcp(this.transport);
    this.logs = new Logs(this.transport);
    this.clients = new ApiClients(this.transport);
  }

  /** The server's base URL, without a trailing slash. */
  get url(): string {
    return this.transport.baseUrl;
  }

  /** The current management access token (fetched or renewed if needed), for calls the SDK does not cover. */
  accessToken(): Promise<string> {
    return this.transport.accessToken();
  }
}
