import { html, type SafeHtml } from '../ui/index.js';
import type { Bucket } from './bucket-records.js';

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * A timeline of calls (bars) and denials (bars in the danger colour, in front), rendered on the
 * server as SVG: no script, and the page CSP holds (presentation attributes, no inline style).
 * Each bar has a <title> (a tooltip, and what a screen reader reads).
 */
export function timelineChart(
  buckets: readonly Bucket[],
  opts: { label: string; height?: number },
): SafeHtml {
  const width = 680;
  const height = opts.height ?? 140;
  const top = 10;
  const bottom = 22;
  const max = Math.max(1, ...buckets.map((b) => b.calls));
  const slot = width / Math.max(1, buckets.length);
  const bar = Math.max(1, slot - 2);
  const y = (n: number) => top + (height - top - bottom) * (1 - n / max);
  const ticks = buckets.length > 0 ? [0, Math.floor(buckets.length / 2), buckets.length - 1] : [];
  const total = buckets.reduce((n, b) => n + b.calls, 0);
  const denied = buckets.reduce((n, b) => n + b.denials, 0);
  return html`<figure class="chart">
    <svg
      viewBox="0 0 ${width} ${height}"
      role="img"
      aria-label="${opts.label}: ${total} calls, ${denied} denied"
      class="timeline"
    >
      <line x1="0" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" class="axis" />
      <text x="0" y="${top}" class="tick">${max}</text>
      ${buckets.map(
        (b, i) =>
          html`<g>
            <title>
              ${clock(b.start)} UTC — ${b.calls} call${b.calls === 1 ? '' : 's'}, ${b.denials} denied,
              ${b.rateLimited} rate-limited
            </title>
            <rect
              x="${(i * slot).toFixed(1)}"
              y="${y(b.calls).toFixed(1)}"
              width="${bar.toFixed(1)}"
              height="${(height - bottom - y(b.calls)).toFixed(1)}"
              class="calls"
            />
            ${b.denials > 0 ? html`<rect x="${(i * slot).toFixed(1)}" y="${y(b.denials).toFixed(1)}" width="${bar.toFixed(1)}" height="${(height - bottom - y(b.denials)).toFixed(1)}" class="denials" />` : ''}
          </g>`,
      )}
      ${ticks.map((i, n) => {
        // The first label starts at its bar, the middle one is centred, the last ends at the edge.
        const anchor = n === 0 ? 'start' : n === ticks.length - 1 ? 'end' : 'middle';
        const x = n === ticks.length - 1 ? width : i * slot + (n === 0 ? 0 : slot / 2);
        return html`<text x="${x.toFixed(1)}" y="${height - 6}" text-anchor="${anchor}" class="tick"
          >${clock(buckets[i]!.start)}</text
        >`;
      })}
    </svg>
    <figcaption>
      <span class="key calls"></span> calls <span class="key denials"></span> denied · ${opts.label}
    </figcaption>
  </figure>`;
}

/** A small bar sparkline for a stat tile (one bar per bucket). */
export function sparkline(values: readonly number[], kind: 'calls' | 'denials'): SafeHtml {
  const width = 120;
  const height = 28;
  const max = Math.max(1, ...values);
  const slot = width / Math.max(1, values.length);
  return html`<svg viewBox="0 0 ${width} ${height}" class="spark" aria-hidden="true">
    ${values.map((v, i) => {
      const h = Math.max(v > 0 ? 1 : 0, (height * v) / max);
      return html`<rect
        x="${(i * slot).toFixed(1)}"
        y="${(height - h).toFixed(1)}"
        width="${Math.max(1, slot - 1).toFixed(1)}"
        height="${h.toFixed(1)}"
        class="${kind}"
      />`;
    })}
  </svg>`;
}
