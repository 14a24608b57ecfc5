import { describe, expect, it } from 'vitest';
import { leavesOf, parseMime, textOf } from './mime.js';

const nested = [
  'From: =?UTF-8?B?Sm9zw6kgR2FyY8OtYQ==?= <jose@example.com>',
  'Subject: =?UTF-8?Q?Caf=C3=A9_tomorrow?=',
  'Content-Type: multipart/mixed;',
  ' boundary="outer"',
  '',
  'preamble to ignore',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Caf=C3=A9 at ten? This line is long enough to be wrapped by a soft line br=',
  'eak.',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Café at ten?</p>',
  '--inner--',
  '--outer',
  "Content-Type: text/plain; name*=UTF-8''men%C3%BC.txt",
  'Content-Disposition: attachment',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('soup\n').toString('base64'),
  '--outer--',
  '',
].join('\r\n');

describe('the MIME tree parser', () => {
  const tree = parseMime(Buffer.from(nested, 'utf8'));

  it('decodes folded headers and RFC 2047 encoded words', () => {
    expect(tree.headers.find((h) => h.name === 'From')?.value).toBe('José García <jose@example.com>');
    expect(tree.headers.find((h) => h.name === 'Subject')?.value).toBe('Café tomorrow');
    expect(tree.params.boundary).toBe('outer');
  });

  it("numbers nested parts the way Gmail's partId does", () => {
    expect(leavesOf(tree).map((leaf) => [leaf.partId, leaf.node.mimeType])).toEqual([
      ['0.0', 'text/plain'],
      ['0.1', 'text/html'],
      ['1', 'text/plain'],
    ]);
  });

  it('undoes quoted-printable with soft line breaks and base64, and reads RFC 2231 filenames', () => {
    expect(textOf(tree, 'text/plain')).toBe(
      'Café at ten? This line is long enough to be wrapped by a soft line break.',
    );
    const attachment = tree.parts[1];
    expect(attachment?.filename).toBe('menü.txt');
    expect(Buffer.from(attachment?.body ?? []).toString()).toBe('soup\n');
  });

  it('treats a message without a blank line as headers only', () => {
    const bare = parseMime(Buffer.from('Subject: hi'));
    expect(bare.mimeType).toBe('text/plain');
    expect(bare.body.byteLength).toBe(0);
  });
});
