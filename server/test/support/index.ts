/**
 * The test kit of @switchboard/server (`@switchboard/server/test-kit`): real databases, the
 * real app in process or on loopback ports, the sandbox as Google, and the tool harness.
 * Test support only; nothing here is built into `dist`.
 */
export { type ManualClock, manualClock } from './clock.js';
export {
  accountRow,
  createTestDatabase,
  ENGINES,
  insertConnection,
  TEST_ENGINE,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from './database.js';
export { installExternalTools } from './external-tools.js';
export { inProcessFetch } from './in-process.js';
export { freePort, type LoopbackServer, serveOnLoopback, type WebHandler } from './loopback.js';
export { CLI, type ServerProcess, startServerProcess } from './process.js';
export {
  followSandboxConsent,
  IN_PROCESS_SANDBOX_URL,
  inProcessSandbox,
  type RunningSandbox,
  startSandbox,
} from './sandbox.js';
export {
  IN_PROCESS_URL,
  replicaEnv,
  type Stack,
  type StackOptions,
  startStack,
  TEST_ENCRYPTION_KEY,
} from './stack.js';
export {
  ALL_GMAIL_SCOPES,
  FULL_CALENDAR_SCOPE,
  JOHN,
  type RecordedRequest,
  recordingFetch,
  runTool,
  SANDBOX_NOW,
  startToolHarness,
  type ToolHarness,
  type ToolHarnessOptions,
  toolContext,
} from './tool-harness.js';
