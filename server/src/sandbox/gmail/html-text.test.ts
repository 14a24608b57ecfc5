import { describe, expect, it } from 'vitest';
import { htmlToText } from './html-text.js';

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

describe('htmlToText', () => {
  it('turns tags into spaces, drops style and script elements, and decodes entities', () => {
    const html =
      '<html><head><STYLE type="text/css">p { color: red }</style></head><body><p>Fish &amp; chips</p>' +
      '<script>alert(1)</SCRIPT><b>at&nbsp;6</b> a<>b &lt;ok&gt; &quot;q&quot; &#39;s</body></html>';
    expect(squash(htmlToText(html))).toBe(`Fish & chips at 6 a<>b <ok> "q" 's`);
  });

  it('keeps text after a < that never closes, and the content of a style that never closes', () => {
    expect(squash(htmlToText('<p>1 < 2 and 3 < 4'))).toBe('1 < 2 and 3 < 4');
    expect(squash(htmlToText('<style>kept <b>bold</b>'))).toBe('kept bold');
  });

  it('reads a 2 MB body of < without > (and of unclosed <style>) in linear time', () => {
    for (const hostile of ['<'.repeat(2_000_000), '<style>'.repeat(300_000), `${'<a'.repeat(1_000_000)}>`]) {
      const started = performance.now();
      htmlToText(hostile);
      // The quadratic regexes took minutes on these; a forward scan takes milliseconds.
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });
});
