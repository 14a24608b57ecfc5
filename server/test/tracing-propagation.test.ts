import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing } from '../src/observability/tracing.js';

describe('the tracing Switchboard starts', () => {
  let tracing: { shutdown(): Promise<void> };
  beforeAll(async () => {
    // No span is ended here, so shutdown has nothing to send to the (absent) collector.
    tracing = await startTracing('switchboard-test');
  });
  afterAll(() => tracing?.shutdown());

  it('propagates W3C trace context and nothing else, so no caller baggage reaches a provider', () => {
    expect(propagation.fields().sort()).toEqual(['traceparent', 'tracestate']);
    const incoming = propagation.extract(ROOT_CONTEXT, {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      baggage: 'tenant=acme-corp',
    });
    expect(propagation.getBaggage(incoming)).toBeUndefined();
    // Passed on as it came (a span ended here would be exported, and there is no collector).
    const outgoing: Record<string, string> = {};
    propagation.inject(incoming, outgoing);
    expect(outgoing.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(outgoing).not.toHaveProperty('baggage');
  });
});
