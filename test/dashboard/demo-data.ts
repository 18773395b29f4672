/**
 * A small study for the screenshots and browser tests: two waves of participants with names,
 * 14 days of real-format points (some stopped a few days ago, one never started, one a bot),
 * an extension reporting a backlog, an errored bundle, and a day of server-health snapshots.
 * Uploaded over HTTP and processed for real; only the older snapshots are written by SQL (the
 * job takes one every 15 minutes, and a screenshot cannot wait a day).
 */
import { gzipSync } from 'node:zlib';
import { serverHealthJob } from '../../src/monitoring/server-health.job.ts';
import { sourceStatisticsJob } from '../../src/monitoring/source-statistics.job.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import type { TestServer } from '../helpers/server.ts';
import { CHROME, HEADLESS, hoursAgo, pointAt, runOk } from '../monitoring/support.ts';

const FIREFOX = 'Webmunk Study Extension/0.3.1 Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:133.0) Gecko/20100101 Firefox/133.0';
const TYPES = ['webmunk-history-visit', 'webmunk-extension-element-show', 'webmunk-extension-element-click', 'webmunk-extension-scroll-position'];

async function upload(server: TestServer, points: unknown[]): Promise<void> {
  const payload = gzipSync(Buffer.from(JSON.stringify(points))).toString('base64');
  const response = await fetch(`${server.baseUrl}/data/add-bundle.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ compression: 'gzip', payload }).toString(),
  });
  if (response.status !== 201) throw new Error(`upload answered ${response.status}`);
}

/** A deterministic pseudo-random sequence, so every run draws the same study. */
function random(seed: number) {
  let state = seed;
  return () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

export async function seedDemoStudy(server: TestServer): Promise<void> {
  const pool = server.db.pool;
  const next = random(7);
  const now = Date.now();
  const participants: Array<{ id: string; name: string; group: string; stoppedDaysAgo: number; agent: string; perDay: number }> = [];
  for (let i = 1; i <= 18; i++) {
    participants.push({
      id: `P${String(i).padStart(4, '0')}`,
      name: `Participant ${i}`,
      group: i <= 10 ? 'Wave 1' : 'Wave 2',
      // most are active; a few dropped off 2 to 9 days ago
      stoppedDaysAgo: i % 6 === 0 ? 2 + (i % 8) : i % 7 === 0 ? 0.3 : 0,
      agent: i % 3 === 0 ? FIREFOX : CHROME,
      perDay: 20 + Math.floor(next() * 60),
    });
  }
  participants.push({ id: 'P0019', name: 'Test run (lab)', group: 'Wave 2', stoppedDaysAgo: 0, agent: HEADLESS, perDay: 90 });
  for (const p of participants) {
    const points = [];
    for (let day = 13; day >= 0; day--) {
      if (day < p.stoppedDaysAgo) break;
      const count = Math.round(p.perDay * (0.5 + next()));
      for (let k = 0; k < count; k++) {
        const created = new Date(now - day * 86_400_000 - next() * 86_400_000);
        if (created.getTime() > now - p.stoppedDaysAgo * 86_400_000) continue;
        points.push(pointAt(p.id, created, { generatorId: TYPES[Math.floor(next() * TYPES.length)], userAgent: p.agent, body: { url: `https://www.example.com/page/${k}`, title: `Example page ${k}` } }));
      }
    }
    for (let i = 0; i < points.length; i += 500) await upload(server, points.slice(i, i + 500));
  }
  // The extension of P0004 reports 12,480 points waiting (a client backlog).
  await upload(server, [pointAt('P0004', hoursAgo(0.5), { generatorId: 'pdk-system-status', body: { 'pending-points': 12_480 } })]);
  // One upload that is not a bundle at all: errored at processing.
  await fetch(`${server.baseUrl}/data/add-bundle.json`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%22not%22%3A%22a%20list%22%7D' });
  await server.process();

  await pool.query(`INSERT INTO source_groups (name) VALUES ('Wave 1'), ('Wave 2') ON CONFLICT DO NOTHING`);
  await pool.query(
    `UPDATE data_sources s SET name = p.name, group_id = g.id
     FROM unnest($1::text[], $2::text[], $3::text[]) AS p (id, name, grp) JOIN source_groups g ON g.name = p.grp
     WHERE s.source = p.id`,
    [participants.map((p) => p.id), participants.map((p) => p.name), participants.map((p) => p.group)],
  );
  await pool.query(`INSERT INTO data_sources (source, first_seen, name) VALUES ('P0020', now() - interval '3 days', 'Participant 20 (enrolled, not started)') ON CONFLICT DO NOTHING`);

  // A day of snapshots before the real one: a steady intake with a processing backlog at midday.
  await pool.query(
    `INSERT INTO server_health_snapshots (taken_at, bundles_received, bundles_added, bundles_pending, bundles_errored, points_total, points_added, processing_lag_seconds)
     SELECT now() - i * interval '15 minutes', 1000 - i * 8, 6 + (i % 5), CASE WHEN i BETWEEN 40 AND 46 THEN (46 - i) * 9 ELSE i % 2 END, 1,
            60000 - i * 300, 250 + (i * 37) % 180, CASE WHEN i BETWEEN 40 AND 46 THEN (46 - i) * 40 ELSE 1 + i % 3 END
     FROM generate_series(1, 96) AS i`,
  );
  for (const job of [sourceStatisticsJob, statusChecksJob, serverHealthJob]) await runOk(pool, server.config, job);
}
