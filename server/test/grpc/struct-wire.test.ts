import { create, fromBinary, type JsonObject, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ExecuteToolResponseSchema } from '../../src/grpc/gen/scalekit/v1/tools/tools_pb.js';
import { encodeExecuteToolResponse } from '../../src/grpc/struct-wire.js';

/** What @bufbuild/protobuf writes for the same answer: the bytes the direct encoder must match. */
const reference = (data: JsonObject, executionId: string) =>
  toBinary(ExecuteToolResponseSchema, create(ExecuteToolResponseSchema, { data, executionId }));

/** Name, answer, and what decoding gives back where it is not the answer itself. */
const answers: [string, JsonObject, JsonObject?][] = [
  ['empty', {}],
  [
    'scalars of every kind',
    { s: 'text', n: 1, f: -2.5, big: 1e300, tiny: 5e-324, zero: 0, t: true, f2: false, nil: null },
  ],
  ['an empty string and key', { '': '' }],
  ['nested objects and lists', { a: { b: { c: [1, 'two', { d: [] }, [[], [null]]] } }, e: [] }],
  ['integer-like keys (JS orders them first)', { b: 1, 2: 'two', a: 3, 1: 'one' }],
  ['non-ASCII text and keys', { clé: 'Grüße 👋 — 日本語', emoji: '🧪'.repeat(50) }],
  ['a lone surrogate (written as U+FFFD by both)', { s: 'a\ud800b' }, { s: 'a\ufffdb' }],
  [
    'a gmail_fetch_mails answer',
    {
      messages: [
        {
          id: '18c2f0a1b2c3d4e5',
          subject: 'Quarterly planning',
          label_ids: ['INBOX', 'UNREAD'],
          has_attachments: false,
          size_estimate: 5123,
        },
      ],
      result_size_estimate: 201,
      next_page_token: '12345678901234567890',
    },
  ],
  // Lengths that need 2- and 3-byte varints.
  ['a 200-byte string', { s: 'x'.repeat(200) }],
  ['a 20,000-byte string', { s: 'y'.repeat(20_000) }],
  ['a 300-item list', { l: Array.from({ length: 300 }, (_, i) => ({ i, s: `item ${i}` })) }],
];

describe('ExecuteToolResponse written straight from JSON', () => {
  for (const [name, data, decodedAs = data] of answers) {
    it(`writes toBinary's bytes: ${name}`, () => {
      const bytes = encodeExecuteToolResponse({ data, executionId: 'exec_0123456789abcdef' });
      expect(bytes).toBeDefined();
      expect(Buffer.from(bytes as Uint8Array).equals(Buffer.from(reference(data, 'exec_0123456789abcdef')))).toBe(true);
      const decoded = fromBinary(ExecuteToolResponseSchema, bytes as Uint8Array);
      expect(decoded.data).toEqual(decodedAs);
      expect(decoded.executionId).toBe('exec_0123456789abcdef');
    });
  }

  it('leaves out an empty execution id, as proto3 does', () => {
    const bytes = encodeExecuteToolResponse({ data: { a: 1 }, executionId: '' });
    expect(Buffer.from(bytes as Uint8Array).equals(Buffer.from(reference({ a: 1 }, '')))).toBe(true);
  });

  it('leaves to toBinary what JSON has no form for, and anything but a plain answer', () => {
    const unsupported: unknown[] = [
      { a: undefined },
      { a: Number.NaN },
      { a: Number.POSITIVE_INFINITY },
      { a: new Date(0) },
      { a: [1, undefined] },
      { a: 1n },
      { a: () => 1 },
      { a: new Map() },
    ];
    for (const data of unsupported) expect(encodeExecuteToolResponse({ data, executionId: 'x' })).toBeUndefined();
    expect(encodeExecuteToolResponse({ data: [1, 2], executionId: 'x' })).toBeUndefined();
    expect(encodeExecuteToolResponse({ data: null, executionId: 'x' })).toBeUndefined();
    expect(encodeExecuteToolResponse({ data: {}, executionId: 7 })).toBeUndefined();
    const message = create(ExecuteToolResponseSchema, { data: { a: 1 }, executionId: 'x' });
    expect(encodeExecuteToolResponse(message)).toBeUndefined();
  });

  it('writes a null-prototype object as a plain one', () => {
    const data = Object.assign(Object.create(null) as JsonObject, { a: 1, b: 'two' });
    const bytes = encodeExecuteToolResponse({ data, executionId: 'e' });
    expect(Buffer.from(bytes as Uint8Array).equals(Buffer.from(reference({ a: 1, b: 'two' }, 'e')))).toBe(true);
  });
});
