import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { injectTraceContext, tracer } from '../observability/tracing.js';
import type { ProviderRequestInit, ProviderResponse, ProviderTransport } from './provider-transport.js';

/** The time one tool call spent waiting for its provider, summed over its requests (retries too). */
export interface ProviderTime {
  ms: number;
}

/**
 * The transport of one tool call, timed: each request adds its time, until its body is read,
 * to `time`, so the call's latency splits into Switchboard's own time and the provider's.
 * With tracing on, each request is also a client span (method and host only: paths hold ids),
 * and its W3C `traceparent` goes to the provider (no baggage: that is the caller's, not Google's).
 */
export function observeProvider(
  transport: ProviderTransport,
  provider: string,
  time: ProviderTime,
  tracing: boolean,
): ProviderTransport {
  if (!tracing) {
    return async (url, init) => {
      const started = performance.now();
      let counted = false;
      const stop = () => {
        if (counted) return;
        counted = true;
        time.ms += performance.now() - started;
      };
      try {
        return readTimed(await transport(url, init), stop);
      } catch (error) {
        stop();
        throw error;
      }
    };
  }
  return (url, init) =>
    tracer.startActiveSpan(
      init.method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': init.method,
          'server.address': url.hostname,
          'switchboard.provider': provider,
        },
      },
      async (span) => {
        const started = performance.now();
        let ended = false;
        const stop = () => {
          if (ended) return;
          ended = true;
          time.ms += performance.now() - started;
          span.end();
        };
        const headers: ProviderRequestInit['headers'] = { ...init.headers };
        injectTraceContext(trace.setSpan(context.active(), span), headers);
        try {
          const response = await transport(url, { ...init, headers });
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
          return readTimed(response, stop);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
          stop();
          throw error;
        }
      },
    );
}

/** The response, with `stop` called once its body is read (or fails to be). */
function readTimed(response: ProviderResponse, stop: () => void): ProviderResponse {
  return {
    status: response.status,
    ok: response.ok,
    headers: response.headers,
    text: () => response.text().finally(stop),
  };
}
