/**
 * Exclusion rules where points are read besides exports (issue 21 §2): a source a rule takes out
 * whole raises no alert (and its alert comes back when the rule is removed); the PDK query API
 * leaves the rules' points out unless the caller asks for them with include_excluded.
 */
import { describe, expect, it } from 'vitest';
import { createServiceToken } from '../../src/api/tokens.repository.ts';
import { addRule, setRuleEnabled } from '../../src/data-quality/exclusion-rules.repository.ts';
import { createLogger } from '../../src/log.ts';
import { statusChecksJob } from '../../src/monitoring/status-checks.job.ts';
import { dataPointsQuery, extensionPoint, pdkPost, pyJson, pythonTime, uploadPoints } from '../helpers/pdk-client.ts';
import { useTestServer } from '../helpers/server.ts';

const server = useTestServer();
const T0 = Date.UTC(2026, 10, 2, 12) / 1000;

async function activeAlerts(source: string): Promise<string[]> {
  const { rows } = await server.db.pool.query('SELECT check_id FROM alerts WHERE source = $1 AND active ORDER BY check_id', [source]);
  return rows.map((r) => r.check_id);
}

describe('exclusion rules beyond exports', () => {
  it('closes the alerts of a source a rule takes out whole, and reopens them when the rule is removed', async () => {
    // registered by the team two days ago, never uploaded: "Data never uploaded"
    await server.db.pool.query(`INSERT INTO data_sources (source, first_seen) VALUES ('dev-07', now() - interval '2 days')`);
    const checks = () => statusChecksJob.run({ pool: server.db.pool, config: server.config, log: createLogger('silent') });
    await checks();
    const before = await activeAlerts('dev-07');
    expect(before.length).toBeGreaterThan(0);
    const rule = await addRule(server.db.pool, { source: 'dev-07', reason: 'team test install' }, 'ana');
    await checks();
    expect(await activeAlerts('dev-07')).toEqual([]);
    // a rule limited to a data type leaves the source's alerts alone
    await setRuleEnabled(server.db.pool, rule, false, 'ana');
    const typed = await addRule(server.db.pool, { source: 'dev-07', generatorId: 'webmunk-history-visit', reason: 'one type' }, 'ana');
    await checks();
    expect(await activeAlerts('dev-07')).toEqual(before);
    await setRuleEnabled(server.db.pool, typed, false, 'ana');
  });

  it('answers the query API without the rules\' points, and with them when the caller asks', async () => {
    await uploadPoints(server.baseUrl, [
      extensionPoint('11112222', 'webmunk-amazon-order-count', T0, { period: '2024', count: 7 }),
      extensionPoint('11112222', 'webmunk-amazon-order-count', T0 + 60, { period: '2023', count: 3 }),
      extensionPoint('11112222', 'pdk-system-status', T0 + 120, { pending_points: 0 }),
    ]);
    await server.process();
    const created = await createServiceToken(server.db.pool, { name: 'enrollment', scope: 'read', expiresDays: null, createdBy: 'test' });
    if (!('token' in created)) throw new Error('no token');
    const count = async (extra: Record<string, string> = {}) => {
      const reply = extra.include_excluded === undefined
        ? await dataPointsQuery(server.baseUrl, created.token, { filters: [{ source: '11112222' }] })
        : await pdkPost(server.baseUrl, '/api/data-points.json', {
          token: created.token, filters: pyJson([{ recorded__lte: pythonTime(new Date()) }, { source: '11112222' }]), ...extra,
        });
      expect(reply.status, reply.text).toBe(200);
      return reply.body.count;
    };
    expect(await count()).toBe(3);
    const rule = await addRule(server.db.pool, { source: '11112222', generatorId: 'webmunk-amazon-order-count', reason: 'counts were wrong in 2.1.0' }, 'ana');
    // applies at once (the API's cache follows every change to the rules)
    expect(await count()).toBe(1);
    expect(await count({ include_excluded: 'true' })).toBe(3);
    expect(await count({ include_excluded: 'false' })).toBe(1);
    const bad = await pdkPost(server.baseUrl, '/api/data-points.json', { token: created.token, include_excluded: 'maybe' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('DCS_ERR_API_QUERY');
    await setRuleEnabled(server.db.pool, rule, false, 'ana');
    expect(await count()).toBe(3);
  });
});
