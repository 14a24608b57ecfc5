import type { AuthInfo } from '@modelcontextprotocol/server';
import type { McpTarget } from '../mcp/targets.js';
import type { ListSplice } from './list-splice.js';

/** The one key of the SDK's `authInfo.extra` this endpoint uses. */
const KEY = 'switchboard';

/**
 * What the endpoint resolved for one MCP request, handed to the per-request server factory.
 * The SDK's `createMcpHandler` passes only `authInfo` from the request to the factory, so this
 * object rides in `authInfo.extra` under one key and is read back with its type checked.
 */
export class McpRequestState {
  constructor(
    /** Who is calling and which tools they see. */
    readonly target: McpTarget,
    /** For a tools/list request: lets the handler answer with the list's kept text. */
    readonly splice?: ListSplice,
  ) {}

  /** The SDK's view of the caller, carrying this state. */
  authInfo(): AuthInfo {
    return { token: '', clientId: this.target.userIdentifier, scopes: [], extra: { [KEY]: this } };
  }

  /** The state the endpoint put into `authInfo`; a request without one is a wiring bug. */
  static of(authInfo: AuthInfo | undefined): McpRequestState {
    const state = authInfo?.extra?.[KEY];
    if (!(state instanceof McpRequestState))
      throw new Error('MCP request reached the server factory without its state');
    return state;
  }
}
