import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ConnectionRow } from '../connections/connections.js';
import type { AccessGrant, AccountRow, TokenVault } from '../connections/token-vault.js';
import type { ProviderDefinition } from '../providers/types.js';
import type { ProviderClientOptions } from './provider-client.js';
import { observeProvider, type ProviderTime } from './provider-observer.js';
import type { ProviderTransport } from './provider-transport.js';

/** What a call with a connected account's token needs from the server (tools and the proxy alike). */
export interface AccountCallDeps {
  config: Config;
  clock: Clock;
  /** Where provider API requests go (see provider-transport.ts). */
  providerTransport: ProviderTransport;
  vault: TokenVault;
}

/**
 * The provider edge's options for one call with `account`'s token: the provider's declared
 * origins and error hook, the sandbox for a sandbox connection, time at the provider added to
 * `providerTime`, and a token from the vault that a forced refresh replaces only if no other
 * caller has replaced it already.
 */
export function accountClientOptions(
  deps: AccountCallDeps,
  call: {
    provider: ProviderDefinition;
    connection: ConnectionRow;
    account: AccountRow;
    /** `account` was read from the database for this call (not from a cache). */
    accountFresh?: boolean;
    providerTime: ProviderTime;
    signal: AbortSignal | undefined;
  },
): ProviderClientOptions {
  const { provider, connection, account } = call;
  let grant: AccessGrant | undefined;
  return {
    fetch: observeProvider(deps.providerTransport, provider.name, call.providerTime, deps.config.tracing.enabled),
    apiOrigins: provider.apiOrigins,
    classifyError: provider.errors,
    sandboxBaseUrl: connection.target === 'sandbox' ? deps.config.sandbox.url : undefined,
    timeoutMs: deps.config.providerTimeoutMs,
    clock: deps.clock,
    signal: call.signal,
    getAccessToken: async ({ forceRefresh }) => {
      grant = await deps.vault.getAccessToken(
        account.id,
        forceRefresh
          ? { staleVersion: grant?.version, known: account }
          : { known: account, ...(call.accountFresh ? { row: account } : {}) },
      );
      return grant.accessToken;
    },
  };
}
