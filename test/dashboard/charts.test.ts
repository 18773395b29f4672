/** The server-drawn bar chart's y axis: a maximum that reads well and fits left of the plot. */
import { describe, expect, it } from 'vitest';
import { axisLabel, barChart, niceMaximum } from '../../src/dashboard/charts.ts';

const from = new Date('2026-12-05T10:00:00Z');
const to = new Date('2026-12-06T10:00:00Z');
const chart = (value: number) => barChart([{ start: new Date('2026-12-05T12:00:00Z'), value, title: `${value} points` }], { label: 'Points added', from, to, bucketMs: 15 * 60_000, ticks: [] }).toString();
const maximumLabel = (svg: string) => /<text class="axis-label"[^>]*>([^<]*)<\/text>/.exec(svg)?.[1];

describe('bar chart y axis', () => {
  it('rounds the maximum up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 7, 10, 11, 480, 1_234_567].map(niceMaximum)).toEqual([1, 0.5, 10, 10, 20, 500, 2_000_000]);
  });

  it('labels the maximum in at most four characters, exactly (seven digits were cut off at the left edge)', () => {
    expect([1, 0.5, 500, 1000, 2000, 50_000, 100_000, 500_000, 2_000_000, 5e9].map(axisLabel)).toEqual(['1', '0.5', '500', '1k', '2k', '50k', '100k', '500k', '2M', '5G']);
    expect(maximumLabel(chart(1_234_567))).toBe('2M');
    expect(maximumLabel(chart(420))).toBe('500');
    // the exact figures stay in the tooltip and the label for screen readers
    expect(chart(1_234_567)).toContain('<title>1234567 points</title>');
    expect(chart(1_234_567)).toContain('at most 1234567 per bucket');
  });
});
