import { describe, expect, it } from 'vitest';
import { describePoint } from '../../src/processing/point-fields.ts';

const meta = (fields: Record<string, unknown>) => ({ 'passive-data-metadata': { source: 's', generator: 'g', ...fields } });

describe('describePoint', () => {
  it('rejects what is not a usable point, with the reason', () => {
    expect(describePoint(5)).toBe('not-an-object');
    expect(describePoint([meta({})])).toBe('not-an-object');
    expect(describePoint({ a: 1 })).toBe('missing-metadata');
    expect(describePoint({ 'passive-data-metadata': 'x' })).toBe('missing-metadata');
    expect(describePoint({ 'passive-data-metadata': { generator: 'g' } })).toBe('missing-source');
    expect(describePoint({ 'passive-data-metadata': { source: 's' } })).toBe('missing-generator');
  });

  it('reads source, generator id and user agent as the original server does', () => {
    const fields = describePoint(meta({ source: '', 'generator-id': '', generator: 'pdk-web-visit:  Ext/1.0 Mozilla/5.0 (X11; Linux) ' }));
    expect(fields).toMatchObject({ source: 'missing-source', generatorId: 'unknown-generator', userAgent: 'Ext/1.0 Mozilla/5.0 (X11; Linux)' });
    expect(describePoint(meta({ source: 48213077, generator: 'PassiveDataKit/1.0 Mozilla/5.0' }))).toMatchObject({ source: '48213077', userAgent: 'PassiveDataKit/1.0 Mozilla/5.0' });
    expect(describePoint(meta({ source: null }))).toMatchObject({ source: 'missing-source' });
  });

  it('takes the client time from timestamp (s), else date (ms), else leaves a date text to parse', () => {
    expect(describePoint({ ...meta({ timestamp: 1694706189.482 }), date: 1 })).toMatchObject({ epochSeconds: 1694706189.482, epochFrom: 'timestamp', dateText: null });
    expect(describePoint({ ...meta({ timestamp: ' 1694706189 ' }) })).toMatchObject({ epochSeconds: 1694706189, epochFrom: 'timestamp' });
    const fromDate = describePoint({ ...meta({ timestamp: null }), date: 1769629874102.431 });
    expect(fromDate).toMatchObject({ epochFrom: 'date' });
    // Microseconds are what PostgreSQL keeps.
    expect((fromDate as { epochSeconds: number }).epochSeconds).toBeCloseTo(1769629874.102431, 6);
    // A millisecond value sent as seconds is implausible (year 55,000): fall back to `date`.
    expect(describePoint({ ...meta({ timestamp: 1694706189482 }), date: 1694706189482 })).toMatchObject({ epochSeconds: 1694706189.482, epochFrom: 'date' });
    expect(describePoint({ ...meta({ timestamp: 'soon' }), date: '2026-01-29T18:04:11.516Z' })).toMatchObject({ epochSeconds: null, epochFrom: null, dateText: '2026-01-29T18:04:11.516Z' });
    expect(describePoint({ ...meta({ timestamp: -5 }) })).toMatchObject({ epochSeconds: null, epochFrom: null, dateText: null });
  });
});
