import { describe, expect, test } from 'vitest';
import { cpuTimeMs } from '../../../test/support/cpu-time.js';
import { decodeHtmlEntities, htmlToText, tidyText } from './html-text.js';

const MB = 1_000_000;
/** CPU time, generous: the linear scan takes 5–200 ms per case on the slowest box seen (a 2.5 GHz Xeon, before the JIT warms); the old regexes took seconds to hours. */
const BOUND_MS = 1_000;

/** `unit` repeated to at least `size` characters. */
function repeated(unit: string, size = MB): string {
  return unit.repeat(Math.ceil(size / unit.length));
}

describe('htmlToText keeps the shape readers expect', () => {
  test('structure becomes newlines; head, style and comments are dropped; entities are decoded', () => {
    const html =
      '<html><head><style>p{color:red}</style></head><body><h1>Weekly&nbsp;report</h1><p>Sales are <b>up</b> 12%.</p><!-- tracking --><ul><li>North</li><li>South</li></ul><p>See <a href="https://dash.example/r/7">the dashboard</a>.</p></body></html>';
    expect(htmlToText(html)).toBe(
      'Weekly report\n\nSales are up 12%.\n\n- North\n- South\n\nSee the dashboard (https://dash.example/r/7).',
    );
  });

  test('links keep a target unless it repeats the text; images keep their alt text; tables keep rows', () => {
    const html =
      '<table><tr><td>A</td><td>B</td></tr><tr><th>C</th><td>D</td></tr></table><hr><img src="x.png" alt="Logo &amp; co">' +
      '<a href="mailto:a@b.example">a@b.example</a> <a href="https://x.example/">x.example</a> ' +
      '<a href="https://y.example"><img alt="Y"></a> <a href="javascript:alert(1)">js</a>';
    expect(htmlToText(html)).toBe('A B\nC D\n\n---\n[Logo & co]a@b.example x.example https://y.example js');
  });

  test('a link inside an open link keeps the first target, as before', () => {
    expect(htmlToText('<a href="https://a.example">one <a href="https://b.example">two</a> three</a>')).toBe(
      'one two (https://a.example) three',
    );
  });

  test('a > inside a quoted attribute does not end the tag', () => {
    expect(htmlToText('<img alt="x > y"><P CLASS="a>b">Upper <A HREF="https://u.example/p">case</A></P>')).toBe(
      '[x > y]\nUpper case (https://u.example/p)',
    );
  });

  test('a < that starts no tag is text; an unclosed comment or tag hides the rest, as in a mail client', () => {
    expect(htmlToText('<p>a < b and 3 <= 4</p>')).toBe('a < b and 3 <= 4');
    expect(htmlToText('<p>shown</p><!-- never closed <p>hidden</p>')).toBe('shown');
    expect(htmlToText('<p>shown</p><a href="https://x.example/ never closed')).toBe('shown');
  });

  test('a hidden element without its end tag hides only the tag', () => {
    expect(htmlToText('<head><p>Body text</p>')).toBe('Body text');
    expect(htmlToText('<style>a{}</style><p>one</p><script>x</script>')).toBe('one');
  });

  test('entities: named, decimal, hexadecimal; unknown or invalid ones stay as written', () => {
    expect(decodeHtmlEntities('&lt;b&gt; &#169; &#x1F600; &euro;5 &AMP; &bogus; &#0; &#x; a&b')).toBe(
      '<b> © 😀 €5 & &bogus; &#0; &#x; a&b',
    );
  });

  test('tidyText collapses spaces, drops zero-width characters and keeps one blank line', () => {
    expect(tidyText('a\u200b\u00a0 b  \r\n\r\n\r\n\r\n  c\t\t')).toBe('a b\n\nc');
  });
});

describe('htmlToText takes linear time on hostile markup (1 MB each)', () => {
  const cases: [string, string, (text: string) => void][] = [
    ['<!-- repeated', repeated('<!--'), (text) => expect(text).toBe('')],
    ['<!-- repeated, then a lone >', `${repeated('<!--')} >`, (text) => expect(text).toBe('')],
    ['<a repeated', repeated('<a'), (text) => expect(text).toBe('')],
    ['<a repeated, then a lone >', `${repeated('<a')} >`, (text) => expect(text).toBe('')],
    ['< repeated', repeated('<'), (text) => expect(text).toBe(repeated('<'))],
    ['unclosed tags', repeated('<b '), (text) => expect(text).toBe('')],
    ['unclosed attributes', `<p ${repeated('x="')}`, (text) => expect(text).toBe('')],
    ['an unclosed quote', `<a href="${repeated('x')}`, (text) => expect(text).toBe('')],
    ['open links never closed', repeated('<a href=x>y'), (text) => expect(text).toMatch(/^y+$/)],
    ['end tags never closed', repeated('</a'), (text) => expect(text).toBe('')],
    ['hidden elements never closed', repeated('<style>'), (text) => expect(text).toBe('')],
    ['hidden-element end tags never finished', `<style>${repeated('</styl')}`, (text) => expect(text).toBe('')],
    [
      'nested unclosed constructs',
      repeated(`<a href="<!--<style><b title='<`),
      (text) => expect(text.length).toBeLessThan(100),
    ],
    ['spaces and tabs before newlines', repeated(`${' \t'.repeat(500)}\n`), (text) => expect(text).toBe('')],
    ['spaces and tabs before text', `${repeated(' \t')}x`, (text) => expect(text).toBe('x')],
    ['unfinished entities', repeated('&#x'), (text) => expect(text).toBe(repeated('&#x'))],
    ['ampersands', repeated('&a'), (text) => expect(text).toBe(repeated('&a'))],
  ];

  test.each(cases)('%s', async (_name, html, check) => {
    const { value: text, ms } = await cpuTimeMs(() => htmlToText(html));
    check(text);
    expect(ms).toBeLessThan(BOUND_MS);
  });
});
