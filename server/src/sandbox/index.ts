export { createSandbox, type Sandbox } from './app.js';
export type { SandboxContext, SandboxPrincipal, SandboxUser } from './context.js';
export type { Fault, FaultSpec } from './faults.js';
export { createGmailApi, type GmailContext } from './gmail/index.js';
export { googleError, googleErrorBody } from './google-errors.js';
export {
  BUILT_IN_CLIENT,
  type SandboxAuthorizationServer,
  type SandboxClient,
  type TokenResponse,
} from './oauth/authorization-server.js';
export { type SandboxCounters, type SandboxOptions, SandboxState } from './state.js';
export { DEFAULT_SANDBOX_USERS } from './users.js';
