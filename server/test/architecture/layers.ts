/**
 * The architecture of server/src, written down once. Layers are listed from the bottom up; a
 * file may import from its own layer and from layers listed before it, never from a later one.
 * An entry ending in `/` is a folder (with everything under it), any other entry is one file.
 * Every non-test .ts file in server/src must fall in exactly one layer, so a new folder has to
 * be placed here before it can land.
 */
export interface Layer {
  name: string;
  /** Folders (ending in `/`) and files, relative to server/src. */
  members: string[];
  description: string;
  /** Members of an isolated layer may not import one another (each edge is its own island). */
  isolated?: boolean;
  /**
   * An apart layer stands beside the stack: it imports only from layers before it, and only
   * the layers named here may import it.
   */
  apart?: { importedBy: string[] };
}

export const LAYERS: Layer[] = [
  {
    name: 'base',
    members: [
      'config.ts',
      'errors.ts',
      'validation.ts',
      'clock.ts',
      'logger.ts',
      'free-port.ts',
      'port-listener.ts',
      'db/',
      'crypto/',
      'cache/',
      'rate-limits/',
      'observability/',
    ],
    description:
      'configuration, errors, storage, crypto, caches, rate limits, clock, logging, metrics and tracing; knows no domain',
  },
  {
    name: 'sandbox',
    members: ['sandbox/'],
    description: 'the local Google emulator: just another upstream, reached by URL and mounted only by the process',
    apart: { importedBy: ['app', 'process'] },
  },
  {
    name: 'catalog',
    members: ['providers/'],
    description: 'providers as data plus their typed tools and quirk hooks',
  },
  {
    name: 'domain',
    members: ['oauth/', 'auth/', 'connections/', 'accounts/', 'mcp/', 'mcp-auth/', 'execution/', 'maintenance/'],
    description:
      'the services: OAuth client, credentials, connections, accounts, MCP configs, execution, retention of old rows',
  },
  {
    name: 'root',
    members: ['context.ts', 'services.ts'],
    description: 'the composition root: builds every service once, and the types edges are written against',
  },
  {
    name: 'edge-support',
    members: ['http/'],
    description: 'request reading and the route docs (for the API reference) shared by every edge',
  },
  {
    name: 'edges',
    members: ['api/', 'grpc/', 'connect-pages/', 'mcp-endpoint/', 'oauth-server/', 'dashboard/', 'api-reference/'],
    description:
      'protocol ⇄ domain translation (REST, gRPC, connect pages, MCP, dashboard) and the API reference built from their route docs; errors are translated only here',
    isolated: true,
  },
  {
    name: 'app',
    members: ['app.ts'],
    description: 'createApp: one Hono app that mounts every edge',
  },
  {
    name: 'process',
    members: ['main.ts', 'cli.ts', 'commands/', 'listener/', 'index.ts'],
    description:
      'starting the server, the one port that serves HTTP/1.1, HTTP/2 and gRPC (listener/), the command line, and the package surface (index.ts)',
  },
];
