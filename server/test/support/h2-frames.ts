/**
 * Raw HTTP/2 wire pieces for tests that send what node:http2 will not (a repeated
 * `authorization` field, as the Python SDK sends one after a token refresh).
 */

/** An HPACK literal header field without indexing, new name, no Huffman coding (RFC 7541 §6.2.2). */
export function literalHeader(name: string, value: string): Buffer {
  const length = (n: number) => {
    if (n < 127) return Buffer.from([n]);
    const bytes = [127];
    let rest = n - 127;
    while (rest >= 128) {
      bytes.push((rest % 128) + 128);
      rest = Math.floor(rest / 128);
    }
    bytes.push(rest);
    return Buffer.from(bytes);
  };
  return Buffer.concat([
    Buffer.from([0]),
    length(name.length),
    Buffer.from(name),
    length(value.length),
    Buffer.from(value),
  ]);
}

/** One HTTP/2 frame: its 9-byte head (RFC 9113 §4.1), then the payload. */
export function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}
