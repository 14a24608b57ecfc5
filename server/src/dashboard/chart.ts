import { type Html, html } from './html.js';

export interface Bucket {
  start: number;
  calls: number;
  errors: number;
}

/** Counts (time, failed) points into `count` equal buckets from `from` to `to`. */
export function bucketize(
  points: { at: number; failed: boolean }[],
  from: number,
  to: number,
  count: number,
): Bucket[] {
  const width = (to - from) / count;
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({ start: from + i * width, calls: 0, errors: 0 }));
  for (const point of points) {
    const index = Math.min(count - 1, Math.max(0, Math.floor((point.at - from) / width)));
    const bucket = buckets[index];
    if (!bucket) continue;
    bucket.calls++;
    if (point.failed) bucket.errors++;
  }
  return buckets;
}

const label = (ms: number, short: boolean) => {
  const iso = new Date(ms).toISOString();
  return short ? `${iso.slice(11, 16)} UTC` : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
};

/**
 * Calls and errors over time as an inline SVG bar chart: a bar of all calls per bucket with
 * its errors drawn over it in red. Colours are attributes, so the strict CSP needs nothing.
 */
export function callsChart(buckets: Bucket[], options: { title: string; shortLabels: boolean }): Html {
  const width = 720;
  const height = 180;
  const left = 36;
  const bottom = 22;
  const top = 8;
  const plotHeight = height - bottom - top;
  const max = Math.max(1, ...buckets.map((b) => b.calls));
  const step = (width - left) / Math.max(1, buckets.length);
  const barWidth = Math.max(1, step - 2);
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;
  const totalCalls = buckets.reduce((sum, b) => sum + b.calls, 0);
  const totalErrors = buckets.reduce((sum, b) => sum + b.errors, 0);
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  const summary = `${options.title}: ${totalCalls} calls, ${totalErrors} errors; busiest interval ${Math.max(0, ...buckets.map((b) => b.calls))} calls.`;
  return html`<svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">
<title id="chart-title">${options.title}</title><desc id="chart-desc">${summary}</desc>
<line x1="${left}" y1="${top + plotHeight}" x2="${width}" y2="${top + plotHeight}" stroke="#8c959f" stroke-width="1"/>
<line x1="${left}" y1="${top}" x2="${width}" y2="${top}" stroke="#d0d7de" stroke-width="1" stroke-dasharray="3 3"/>
<text x="${left - 6}" y="${top + 4}" font-size="11" text-anchor="end" fill="#57606a">${max}</text>
<text x="${left - 6}" y="${top + plotHeight}" font-size="11" text-anchor="end" fill="#57606a">0</text>
${buckets.map((bucket, i) => {
  const x = left + i * step + 1;
  return html`<g><title>${label(bucket.start, options.shortLabels)}: ${bucket.calls} calls, ${bucket.errors} errors</title>${
    bucket.calls
      ? html`<rect x="${x.toFixed(1)}" y="${y(bucket.calls).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(top + plotHeight - y(bucket.calls)).toFixed(1)}" fill="#218bff"/>`
      : ''
  }${
    bucket.errors
      ? html`<rect x="${x.toFixed(1)}" y="${y(bucket.errors).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(top + plotHeight - y(bucket.errors)).toFixed(1)}" fill="#cf222e"/>`
      : ''
  }</g>`;
})}
${first ? html`<text x="${left}" y="${height - 6}" font-size="11" fill="#57606a">${label(first.start, options.shortLabels)}</text>` : ''}
${last ? html`<text x="${width}" y="${height - 6}" font-size="11" text-anchor="end" fill="#57606a">now</text>` : ''}
</svg>`;
}
