/**
 * Charts as inline SVG, drawn on the server: no chart library and no script, so every page
 * works offline, prints, and can be tested by reading its markup. Every bar carries a <title>
 * (the browser's tooltip and what a screen reader says).
 */
import { escapeHtml, html, raw, type SafeHtml } from '../html.ts';

export interface Bar {
  /** when the bucket starts */
  start: Date;
  value: number;
  /** the tooltip, e.g. "Dec 2, 13:00–13:10: 42 points" */
  title: string;
}

export interface BarChartOptions {
  /** what the chart shows, for aria-label and the caption */
  label: string;
  /** the time axis: [from, to) */
  from: Date;
  to: Date;
  /** width of one bucket in milliseconds */
  bucketMs: number;
  /** tick labels along the time axis: [where, text] */
  ticks: Array<[Date, string]>;
  /** CSS class added to the <svg>, e.g. "chart chart-created" */
  className?: string;
}

const WIDTH = 960;
const HEIGHT = 180;
const LEFT = 48;
const BOTTOM = 22;
const TOP = 8;

/** Rounds a maximum up to 1, 2 or 5 times a power of ten, so the axis reads well. */
export function niceMaximum(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * The y axis's maximum in at most four characters, which fit left of the plot (seven digits were
 * cut off): 500, 2k, 50k, 100k, 2M. Exact, since the maximum is 1, 2 or 5 times a power of ten.
 */
export function axisLabel(value: number): string {
  for (const [size, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) if (value >= size) return `${value / size}${suffix}`;
  return String(value);
}

/** A bar chart over time: one bar per bucket with a value, a y axis with its maximum, time ticks. */
export function barChart(bars: readonly Bar[], options: BarChartOptions): SafeHtml {
  const span = options.to.getTime() - options.from.getTime();
  const plotWidth = WIDTH - LEFT - 4;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const maximum = niceMaximum(Math.max(0, ...bars.map((b) => b.value)));
  const x = (date: Date) => LEFT + ((date.getTime() - options.from.getTime()) / span) * plotWidth;
  const barWidth = Math.max(1, (options.bucketMs / span) * plotWidth - 0.5);
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  const rects = bars
    .filter((b) => b.value > 0 && b.start >= options.from && b.start < options.to)
    .map((b) => {
      const h = Math.max(1, (b.value / maximum) * plotHeight);
      return html`<rect class="bar" x="${x(b.start).toFixed(1)}" y="${(TOP + plotHeight - h).toFixed(1)}" width="${barWidth.toFixed(2)}" height="${h.toFixed(1)}"><title>${b.title}</title></rect>`;
    });
  const ticks = options.ticks.map(([at, text]) => {
    const tx = x(at).toFixed(1);
    return html`<line class="tick" x1="${tx}" x2="${tx}" y1="${TOP}" y2="${TOP + plotHeight}"></line><text class="tick-label" x="${tx}" y="${HEIGHT - 6}" text-anchor="middle">${text}</text>`;
  });
  return html`<svg class="${options.className ?? 'chart'}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${options.label}: ${total} in all, at most ${Math.max(0, ...bars.map((b) => b.value))} per bucket" data-bars="${rects.length}">
<line class="axis" x1="${LEFT}" x2="${WIDTH - 4}" y1="${TOP + plotHeight}" y2="${TOP + plotHeight}"></line>
<text class="axis-label" x="${LEFT - 6}" y="${TOP + 10}" text-anchor="end">${axisLabel(maximum)}</text>
<text class="axis-label" x="${LEFT - 6}" y="${TOP + plotHeight}" text-anchor="end">0</text>
${ticks}${rects}</svg>`;
}

export interface StripDay {
  label: string;
  points: number;
}

/**
 * The 14-day activity strip: one cell per day, oldest first, darker for more points and hollow
 * for none, so a participant who dropped off shows as a run of empty cells at the right.
 */
export function activityStrip(days: readonly StripDay[]): SafeHtml {
  const maximum = Math.max(1, ...days.map((d) => d.points));
  // One string, not a template per cell: the home page draws 1,400 cells.
  let cells = '';
  for (const [i, d] of days.entries()) {
    const title = escapeHtml(`${d.label}: ${d.points} point${d.points === 1 ? '' : 's'}`);
    // At least a fifth of full strength, so a day with a few points is still visible.
    const fill = d.points === 0 ? '' : ` fill-opacity="${(0.2 + 0.8 * (d.points / maximum)).toFixed(2)}"`;
    cells += `<rect class="day${d.points === 0 ? ' empty' : ''}" x="${i * 8 + 0.5}" y="0.5" width="6" height="15"${fill}><title>${title}</title></rect>`;
  }
  const active = days.filter((d) => d.points > 0).length;
  return html`<svg class="strip" viewBox="0 0 ${days.length * 8} 16" width="${days.length * 8}" height="16" role="img" aria-label="Points per day over the last ${days.length} days: ${active} days with data">${raw(cells)}</svg>`;
}
