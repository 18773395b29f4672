/**
 * Upload admission (ingest/admission.ts): bytes in flight bound what a process holds, first come
 * first served, an upload alone always passes; per-address buckets of uploads and bytes refill
 * continuously and hold a minute's worth.
 */
import { describe, expect, it } from 'vitest';
import { createAdmission, type Admitted } from '../../src/ingest/admission.ts';

const UNLIMITED = { ratePerMinute: 0, bytesPerMinute: 0 };

describe('bytes in flight', () => {
  it('lets uploads in while they fit, queues the rest in order, and lets an upload alone in whatever its size', async () => {
    const admission = createAdmission({ inflightBytes: 100, ...UNLIMITED });
    const a = (await admission.admit('x', 60)) as Admitted;
    const b = (await admission.admit('x', 40)) as Admitted;
    expect([a.verdict, b.verdict]).toEqual(['admitted', 'admitted']);
    expect(admission.stats()).toMatchObject({ inflightBytes: 100, waiting: 0 });
    const order: string[] = [];
    const c = admission.admit('x', 30).then((r) => { order.push('c'); return r as Admitted; });
    const d = admission.admit('y', 10).then((r) => { order.push('d'); return r as Admitted; }); // fits, but c came first
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(admission.stats()).toMatchObject({ waiting: 2 });
    a.release();
    a.release(); // twice is once
    expect(((await c).verdict)).toBe('admitted');
    expect(((await d).verdict)).toBe('admitted');
    expect(order).toEqual(['c', 'd']);
    expect(admission.stats()).toMatchObject({ inflightBytes: 80, waiting: 0 });
    b.release();
    (await c).release();
    (await d).release();
    expect(admission.stats().inflightBytes).toBe(0);
    const alone = (await admission.admit('x', 1000)) as Admitted;
    expect(alone.verdict).toBe('admitted');
    alone.release();
  });

  it('refuses an upload that waited too long as busy', async () => {
    const admission = createAdmission({ inflightBytes: 100, ...UNLIMITED, queueWaitMs: 50 });
    const held = (await admission.admit('x', 100)) as Admitted;
    expect(await admission.admit('x', 1)).toEqual({ verdict: 'busy', retryAfterSeconds: 60 });
    expect(admission.stats()).toMatchObject({ waiting: 0, refusedBusy: 1, inflightBytes: 100 });
    held.release();
  });
});

describe('per-address rate limits', () => {
  it('passes a minute of uploads at once, then refills continuously; addresses are counted apart', async () => {
    let now = 0;
    const admission = createAdmission({ inflightBytes: 1e9, ratePerMinute: 3, bytesPerMinute: 0 }, () => now);
    for (let i = 0; i < 3; i++) ((await admission.admit('10.0.0.1', 5)) as Admitted).release();
    expect(await admission.admit('10.0.0.1', 5)).toEqual({ verdict: 'rate-limited', retryAfterSeconds: 20 });
    expect((await admission.admit('10.0.0.2', 5)).verdict).toBe('admitted');
    now += 20_000; // a third of a minute: one upload's worth
    expect((await admission.admit('10.0.0.1', 5)).verdict).toBe('admitted');
    expect((await admission.admit('10.0.0.1', 5)).verdict).toBe('rate-limited');
    expect(admission.stats().refusedRateLimited).toBe(2);
  });

  it('counts bytes too; an upload larger than a minute of bytes passes only with a full bucket', async () => {
    let now = 0;
    const admission = createAdmission({ inflightBytes: 1e9, ratePerMinute: 0, bytesPerMinute: 1000 }, () => now);
    ((await admission.admit('a', 600)) as Admitted).release();
    expect(await admission.admit('a', 600)).toEqual({ verdict: 'rate-limited', retryAfterSeconds: 12 });
    now += 60_000;
    expect((await admission.admit('a', 5000)).verdict).toBe('admitted');
    expect((await admission.admit('a', 1)).verdict).toBe('rate-limited');
  });

  it('charges the bytes a body inflated to, so the address waits for them to refill', async () => {
    let now = 0;
    const admission = createAdmission({ inflightBytes: 1e9, ratePerMinute: 0, bytesPerMinute: 1000 }, () => now);
    ((await admission.admit('a', 100)) as Admitted).release();
    admission.charge('a', 2900); // a 100-byte gzip body that inflated to 2,900 bytes
    expect(await admission.admit('a', 1)).toEqual({ verdict: 'rate-limited', retryAfterSeconds: 121 });
    now += 121_000;
    expect((await admission.admit('a', 1)).verdict).toBe('admitted');
  });
});
