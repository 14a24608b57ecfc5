import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { isMessage, isMessageList, messageListSchema, messageSchema, parseResponse } from './gmail-types.js';

const message = () => ({
  id: '18c2f0a1b2c3d4e5',
  threadId: '18c2f0a1b2c3d4e5',
  labelIds: ['INBOX', 'UNREAD'],
  snippet: 'Lunch on Friday?',
  historyId: '1234',
  internalDate: '1732838400000',
  sizeEstimate: 2048,
  extraField: { kept: true },
  payload: {
    partId: '',
    mimeType: 'multipart/alternative',
    filename: '',
    headers: [
      { name: 'From', value: 'Ana <ana@example.com>' },
      { name: 'Subject', value: 'Lunch' },
    ],
    body: { size: 0 },
    parts: [
      { partId: '0', mimeType: 'text/plain', headers: [], body: { size: 5, data: 'aGVsbG8' } },
      {
        partId: '1',
        mimeType: 'multipart/mixed',
        parts: [
          { partId: '1.0', mimeType: 'application/pdf', filename: 'a.pdf', body: { attachmentId: 'att1', size: 9 } },
        ],
      },
    ],
  },
});

const list = () => ({
  messages: [{ id: 'a', threadId: 't' }, { id: 'b' }],
  nextPageToken: 'next',
  resultSizeEstimate: 2,
});

/** Every value reached by changing one field (at any depth) to another kind of JSON value, or removing it. */
function mutants(value: unknown): unknown[] {
  const replacements: unknown[] = [null, 1, 'x', true, [], {}, [1], Number.NaN, undefined];
  const out: unknown[] = [];
  const walk = (node: unknown, rebuild: (next: unknown) => unknown) => {
    for (const replacement of replacements) out.push(rebuild(replacement));
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) {
        walk(item, (next) => rebuild(node.map((x, j) => (i === j ? next : x))));
      }
    } else if (node && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        walk((node as Record<string, unknown>)[key], (next) => rebuild({ ...node, [key]: next }));
      }
    }
  };
  walk(value, (next) => next);
  return out;
}

describe.each([
  ['message', messageSchema, isMessage, message],
  ['message list', messageListSchema, isMessageList, list],
] as const)('the %s check', (_what, schema, check, sample) => {
  it('accepts a whole, valid answer, which is then returned as it came', () => {
    const value = sample();
    expect(check(value)).toBe(true);
    expect(parseResponse(schema as z.ZodType, value, 'answer', check)).toBe(value);
  });

  it('accepts nothing the schema refuses, at any depth', () => {
    const all = mutants(sample());
    expect(all.length).toBeGreaterThan(50);
    let refusedBySchema = 0;
    for (const value of all) {
      const schemaAccepts = schema.safeParse(value).success;
      if (!schemaAccepts) refusedBySchema++;
      if (check(value)) expect(schemaAccepts, JSON.stringify(value)).toBe(true);
    }
    expect(refusedBySchema).toBeGreaterThan(20);
  });

  it('leaves what it refuses to the schema, which names the problem', () => {
    expect(() => parseResponse(schema as z.ZodType, { id: 42, messages: 'no' }, 'answer', check)).toThrow(
      /unexpected answer/,
    );
  });
});
