export { Switchboard, type SwitchboardOptions } from './client.js';
export { ConnectedAccounts } from './connected-accounts.js';
export { Connections } from './connections.js';
export { SwitchboardError } from './errors.js';
export { Logs } from './logs.js';
export { Mcp } from './mcp.js';
export { Tools } from './tools.js';
export type { Clock } from './transport.js';
export type * from './types.js';
