import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
/**
 * A fetch that trusts these certificates besides the system's: how this server reaches the
 * sandbox it mounts when it serves HTTPS with its development certificate.
 */
export function fetchTrusting(extraCa: string[]): typeof fetch {
  const dispatcher = new Agent({ connect: { ca: [...rootCertificates, ...extraCa] } });
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as string, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}
