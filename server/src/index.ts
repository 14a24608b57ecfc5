/**
 * The public surface of @switchboard/server: what another package (bench, an embedding
 * application) may import. Everything else under src is internal and may move.
 */
export { type AppDeps, type AppEnv, createApp, createServices, type Services } from './app.js';
export { createApiClient, type IssuedClient } from './auth/api-clients.js';
export { SigningKeys } from './auth/signing-keys.js';
export { type Clock, systemClock } from './clock.js';
export { type Config, ConfigError, loadConfig } from './config.js';
export { createEncryptor, type Encryptor, loadEncryptor } from './crypto/envelope.js';
export { hashSecret, newId, newSecret } from './crypto/random.js';
export { type DatabaseHandle, type Engine, openDatabase } from './db/database.js';
export type { Database } from './db/schema.js';
export { createProviderTransport, type ProviderTransport } from './execution/provider-transport.js';
export { freePort } from './free-port.js';
export * as scalekitTools from './grpc/gen/scalekit/v1/tools/tools_pb.js';
export { createLogger, type Logger } from './logger.js';
export { type RunningServer, startServer } from './main.js';
export { type Catalog, createCatalog } from './providers/index.js';
export { createSandbox, type Sandbox, type SandboxOptions } from './sandbox/index.js';
