/**
 * ExecuteToolResponse written straight from the tool's JSON answer onto the protobuf wire.
 * `data` is a google.protobuf.Struct: @bufbuild/protobuf's `toBinary` first builds a Value
 * message for every JSON value and then walks them by reflection, ~20 µs for one message of
 * gmail_fetch_mails where `JSON.stringify` of the same answer takes ~4 µs (the REST face's
 * cost). The bytes are toBinary's own (fields in order, map entries in insertion order, every
 * oneof member written), which the tests compare. A value JSON has no form for (undefined, a
 * non-finite number, a Date or other class instance) leaves the answer to toBinary, so it
 * behaves as it did before.
 *
 * Two passes over the value: the first computes each nested message's length and each
 * string's UTF-8 length in the order the second writes them, so no message is measured twice.
 */

const UNSUPPORTED = Symbol('unsupported');

/** Struct { map<string, Value> fields = 1 }; Value's oneof members are fields 1 to 6. */
const TAG_FIELD_1_LEN = 0x0a; // Struct.fields, ListValue.values, map key, response data
const TAG_FIELD_2_LEN = 0x12; // map value, response execution_id
const TAG_NULL = 0x08; // Value.null_value (varint)
const TAG_NUMBER = 0x11; // Value.number_value (fixed64)
const TAG_STRING = 0x1a; // Value.string_value
const TAG_BOOL = 0x20; // Value.bool_value (varint)
const TAG_STRUCT = 0x2a; // Value.struct_value
const TAG_LIST = 0x32; // Value.list_value

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Lengths in the order `write` needs them: nested messages and strings, depth first. */
class Sizes {
  readonly list: number[] = [];
  reserve(): number {
    this.list.push(0);
    return this.list.length - 1;
  }
}

function stringSize(sizes: Sizes, text: string): number {
  const bytes = Buffer.byteLength(text, 'utf8');
  sizes.list.push(bytes);
  return varintSize(bytes) + bytes;
}

/** The encoded length of a Value (tag and body) holding `value`. */
function valueSize(sizes: Sizes, value: unknown): number {
  if (value === null || typeof value === 'boolean') return 2;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw UNSUPPORTED;
    return 9;
  }
  if (typeof value === 'string') return 1 + stringSize(sizes, value);
  if (typeof value !== 'object') throw UNSUPPORTED;
  const at = sizes.reserve();
  let body = 0;
  if (Array.isArray(value)) {
    for (const item of value) body += 1 + lengthPrefixed(sizes, (s) => valueSize(s, item));
  } else if (isPlainObject(value)) {
    body = structSize(sizes, value);
  } else {
    throw UNSUPPORTED;
  }
  sizes.list[at] = body;
  return 1 + varintSize(body) + body;
}

/** The length of a message written through `measure`, with its length prefix. */
function lengthPrefixed(sizes: Sizes, measure: (sizes: Sizes) => number): number {
  const at = sizes.reserve();
  const body = measure(sizes);
  sizes.list[at] = body;
  return varintSize(body) + body;
}

function structSize(sizes: Sizes, object: Record<string, unknown>): number {
  let body = 0;
  for (const key of Object.keys(object)) {
    const value = object[key];
    body +=
      1 + lengthPrefixed(sizes, (s) => 1 + stringSize(s, key) + 1 + lengthPrefixed(s, (t) => valueSize(t, value)));
  }
  return body;
}

class Writer {
  private at = 0;
  private next = 0;
  constructor(
    readonly buffer: Buffer,
    private readonly sizes: number[],
  ) {}

  byte(value: number): void {
    this.buffer[this.at++] = value;
  }

  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buffer[this.at++] = rest;
  }

  /** The next length the first pass recorded. */
  size(): number {
    return this.sizes[this.next++] ?? 0;
  }

  string(text: string): void {
    const bytes = this.size();
    this.varint(bytes);
    this.at += this.buffer.write(text, this.at, bytes, 'utf8');
  }

  double(value: number): void {
    this.buffer.writeDoubleLE(value, this.at);
    this.at += 8;
  }

  /** A Value's oneof member for `value` (valueSize accepted it). */
  value(value: unknown): void {
    if (value === null) {
      this.byte(TAG_NULL);
      this.byte(0);
    } else if (typeof value === 'boolean') {
      this.byte(TAG_BOOL);
      this.byte(value ? 1 : 0);
    } else if (typeof value === 'number') {
      this.byte(TAG_NUMBER);
      this.double(value);
    } else if (typeof value === 'string') {
      this.byte(TAG_STRING);
      this.string(value);
    } else if (Array.isArray(value)) {
      this.byte(TAG_LIST);
      this.varint(this.size());
      for (const item of value) {
        this.byte(TAG_FIELD_1_LEN);
        this.varint(this.size());
        this.value(item);
      }
    } else {
      this.byte(TAG_STRUCT);
      this.varint(this.size());
      this.struct(value as Record<string, unknown>);
    }
  }

  struct(object: Record<string, unknown>): void {
    for (const key of Object.keys(object)) {
      this.byte(TAG_FIELD_1_LEN);
      this.varint(this.size());
      this.byte(TAG_FIELD_1_LEN);
      this.string(key);
      this.byte(TAG_FIELD_2_LEN);
      this.varint(this.size());
      this.value(object[key]);
    }
  }
}

/**
 * ExecuteToolResponse { Struct data = 1; string execution_id = 2 } for a plain JSON object,
 * or undefined where toBinary must write it (see above).
 */
export function encodeExecuteToolResponse(output: { data?: unknown; executionId?: unknown }): Uint8Array | undefined {
  const { data, executionId } = output;
  if (typeof data !== 'object' || data === null || !isPlainObject(data)) return undefined;
  if (typeof executionId !== 'string' || Object.keys(output).length !== 2) return undefined;
  const sizes = new Sizes();
  let total: number;
  try {
    total = 1 + lengthPrefixed(sizes, (s) => structSize(s, data));
    if (executionId !== '') total += 1 + stringSize(sizes, executionId);
  } catch (error) {
    if (error === UNSUPPORTED) return undefined;
    throw error;
  }
  const writer = new Writer(Buffer.allocUnsafe(total), sizes.list);
  writer.byte(TAG_FIELD_1_LEN);
  writer.varint(writer.size());
  writer.struct(data);
  if (executionId !== '') {
    writer.byte(TAG_FIELD_2_LEN);
    writer.string(executionId);
  }
  return writer.buffer;
}
