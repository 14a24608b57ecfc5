// @ts-check
/**
 * Mutation testing of the security-critical modules (issue 18), one module at a time:
 * `npm run test:mutation` runs them all, `npm run test:mutation -- vault` one. Not in CI (it
 * takes minutes per module). Reports and incremental state go to reports/mutation/ (gitignored).
 */
export const MODULES = {
  envelope: {
    mutate: ['server/src/crypto/envelope.ts'],
    // The direct file only: secrets.test.ts starts a stack in beforeAll, which made every
    // mutant it reached "static" (all of that file's tests for each); nothing it covers here
    // is not covered directly.
    tests: ['server/test/envelope.test.ts'],
  },
  vault: {
    mutate: ['server/src/connections/token-vault.ts'],
    tests: ['server/test/token-vault.test.ts', 'server/test/token-refresh.test.ts'],
    // The row lock and the transaction of a refused refresh only exist on Postgres.
    engines: 'both',
  },
  'connect-flow': {
    mutate: ['server/src/accounts/connect-flow.ts'],
    tests: ['server/test/connect-flow-rules.test.ts', 'server/test/connect-flow.test.ts'],
  },
  'session-tokens': {
    mutate: ['server/src/mcp/session-tokens.ts'],
    tests: ['server/test/mcp/session-tokens.test.ts', 'server/test/mcp/session-token-revocation.test.ts'],
  },
  'management-auth': {
    mutate: ['server/src/api/management-auth.ts', 'server/src/auth/api-clients.ts'],
    tests: ['server/test/management-auth.test.ts', 'server/test/api-clients.test.ts'],
  },
  executor: {
    mutate: ['server/src/execution/executor.ts', 'server/src/execution/provider-client.ts'],
    // Two direct files: they cover what tools-api.test.ts (27 min for the module) and
    // src/execution/provider-client.test.ts reached, and executor.test.ts runs tools end to end.
    tests: ['server/test/provider-client.test.ts', 'server/test/executor.test.ts'],
  },
  targets: {
    mutate: ['server/src/mcp/targets.ts'],
    // The direct file only: it pins the cold lookup's prefetched rows (equal to the tables' rows,
    // one query, primed for the call) that cold-call.test.ts checks through a tool call; with
    // cold-call in the list the run took 16 min (each static mutant runs every listed test).
    tests: ['server/test/mcp/targets.test.ts'],
  },
  'mcp-auth': {
    mutate: ['server/src/mcp-auth/authorization-server.ts'],
    // The direct file (every check, a clock moved by hand, the issuer in process) and ways-in
    // (accounts already ACTIVE, a second replica). sign-in, oidc-upstream and sdk-v1 run real
    // clients over sockets through the same checks: with them a run was estimated at 2 h.
    tests: ['server/test/mcp-oauth/authorization-server.test.ts', 'server/test/mcp-oauth/ways-in.test.ts'],
  },
  'dashboard-auth': {
    mutate: ['server/src/dashboard/session.ts', 'server/src/dashboard/csrf.ts', 'server/src/dashboard/sign-in.ts'],
    // The direct file (sessions, cookies, CSRF and sign-in in process, a clock moved by hand),
    // security (the dashboard's own guard over them) and sign-in-race (a rotation committed
    // between the secret check and the insert, and on Postgres the insert's FOR SHARE wait).
    tests: [
      'server/test/dashboard/session-rules.test.ts',
      'server/test/dashboard/security.test.ts',
      'server/test/dashboard/sign-in-race.test.ts',
    ],
    // FOR SHARE on the session insert exists only on Postgres.
    engines: 'both',
  },
  'rate-limits': {
    mutate: [
      'server/src/rate-limits/rate-limiter.ts',
      'server/src/rate-limits/fixed-window.ts',
      'server/src/rate-limits/address-prefix.ts',
    ],
    // The direct files only (a clock moved by hand, real Redis under a prefix per test, a relay
    // to cut it). rate-limits.test.ts gets a token in a beforeAll, which made 80 of the 206
    // mutants static (its 20 tests each): the run was estimated at 47 min.
    tests: [
      'server/test/rate-limiter.test.ts',
      'server/src/rate-limits/address-prefix.test.ts',
      'server/src/rate-limits/fixed-window.test.ts',
    ],
  },
  'grpc-auth': {
    mutate: ['server/src/grpc/auth.ts'],
    // The direct file (every value rule and every method's scope, on a real stack's keys and clients) and
    // authorization-values (a repeated authorization field over HTTP/2, on both gRPC paths).
    tests: ['server/test/grpc/call-auth.test.ts', 'server/test/grpc/authorization-values.test.ts'],
  },
  'outbound-fetch': {
    mutate: [
      'server/src/mcp-auth/addresses.ts',
      'server/src/mcp-auth/document-fetcher.ts',
      'server/src/mcp-auth/redirect-uris.ts',
    ],
    // What a client-chosen URL may reach (SSRF) and where a code may be sent: the direct file
    // (real loopback servers, every address range) and the redirect URI rules' own file.
    tests: ['server/test/mcp-oauth/outbound-rules.test.ts', 'server/src/mcp-auth/redirect-uris.test.ts'],
  },
  'mcp-clients': {
    mutate: ['server/src/mcp-auth/clients.ts', 'server/src/mcp-auth/oidc-upstream.ts'],
    // Who may be an MCP OAuth client (registration, metadata documents, secrets) and the sign-in
    // at the app's OpenID Connect issuer (the id_token's checks, the keys fetched again).
    tests: ['server/test/mcp-oauth/client-rules.test.ts'],
  },
  'request-bounds': {
    mutate: [
      'server/src/mcp-endpoint/request-guard.ts',
      'server/src/http/body.ts',
      'server/src/http/client-address.ts',
    ],
    // The MCP endpoint's Host and Origin checks (DNS rebinding) and CORS answers, body size caps,
    // and the client address that rate limits count: the direct file and body's own.
    tests: ['server/test/request-bounds.test.ts', 'server/src/http/body.test.ts'],
  },
  'oauth-client': {
    mutate: ['server/src/oauth/client.ts', 'server/src/oauth/bounded-fetch.ts'],
    // The one OAuth client of every provider (the consent URL, code exchange, refresh and what a
    // refusal means for the account, revocation, who consented) and the cap on what it reads.
    tests: ['server/test/oauth-client-rules.test.ts', 'server/test/limits/auth-answers.test.ts'],
  },
  'signing-keys': {
    mutate: ['server/src/auth/signing-keys.ts'],
    // The keys that sign management and MCP session tokens, and the verified-token memory that
    // skips the signature check for a token seen before.
    tests: ['server/test/signing-key-rules.test.ts', 'server/src/auth/signing-keys.test.ts'],
  },
  'mcp-instances': {
    mutate: ['server/src/mcp/instances.ts'],
    // Per-user instance URLs, which are capabilities: the secret's size, its digest and
    // ciphertext, ensure under concurrency, rotation (the old URL dead), listing and deletion.
    tests: ['server/test/mcp/instance-rules.test.ts', 'server/test/mcp/instances.test.ts'],
  },
};

const name = process.env.MUTATION_MODULE ?? 'envelope';
const module = MODULES[/** @type {keyof typeof MODULES} */ (name)];
if (!module) throw new Error(`unknown MUTATION_MODULE ${name}; one of ${Object.keys(MODULES).join(', ')}`);
process.env.MUTATION_TESTS = module.tests.join(',');
// SQLite only unless the module has Postgres-only paths (then both, Postgres when reachable).
process.env.MUTATION_ENGINE = 'engines' in module ? module.engines : 'sqlite';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  mutate: module.mutate,
  coverageAnalysis: 'perTest',
  // Two cores shared with others.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 10_000,
  incremental: true,
  incrementalFile: `reports/mutation/${name}/stryker-incremental.json`,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: `reports/mutation/${name}/index.html` },
  jsonReporter: { fileName: `reports/mutation/${name}/mutation.json` },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['.data', '.tools', 'reports', 'bench', 'examples', 'test-artifacts', 'coverage'],
  thresholds: { high: 95, low: 90, break: null },
};
