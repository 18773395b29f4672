/**
 * automated-browser: the source's points of the last AUTOMATED_RECENT_DAYS came (at least in
 * part) from a user agent that is an automated or headless browser: a warning, so the study team
 * can tell a bot or a test run from a participant.
 */
import type { CheckOutcome } from '../alerts.repository.ts';
import { automationSignatures } from '../automated-browser.ts';
import { quoteText } from '../plain-text.ts';
import { ELIGIBLE_SOURCES, type StatusCheck } from './check.ts';

export const automatedBrowserCheck: StatusCheck = {
  id: 'automated-browser',
  async evaluate(pool, config) {
    // The distinct recent user agents are few (browser versions times platforms): classify each
    // once in Node, then fetch only the sources of the automated ones.
    const recent = `u.last_seen >= now() - make_interval(days => $1) AND u.points > 0`;
    const { rows: agents } = await pool.query<{ user_agent: string }>(
      `WITH ${ELIGIBLE_SOURCES}
       SELECT DISTINCT u.user_agent FROM user_agent_sources u JOIN eligible e ON e.source = u.source WHERE ${recent}`,
      [config.automatedRecentDays],
    );
    const signatures = new Map<string, string[]>();
    for (const { user_agent: userAgent } of agents) {
      const found = automationSignatures(userAgent);
      if (found.length > 0) signatures.set(userAgent, found);
    }
    if (signatures.size === 0) return [];
    const { rows } = await pool.query<{ source: string; user_agents: string[] }>(
      `WITH ${ELIGIBLE_SOURCES}
       SELECT u.source, array_agg(u.user_agent ORDER BY u.last_seen DESC, u.user_agent) AS user_agents
       FROM user_agent_sources u JOIN eligible e ON e.source = u.source
       WHERE ${recent} AND u.user_agent = ANY ($2::text[])
       GROUP BY u.source`,
      [config.automatedRecentDays, [...signatures.keys()]],
    );
    return rows.map(({ source, user_agents: userAgents }): CheckOutcome => {
      // Quoted and escaped: the message goes into the digest e-mail, and the user agent is the uploader's.
      const described = userAgents.map((ua) => `${quoteText(ua, 300)} (matched: ${signatures.get(ua)!.join(', ')})`);
      return {
        source,
        name: 'Automated browser',
        level: 'warning',
        details: {
          message: `Data from the last ${config.automatedRecentDays} days came from an automated browser: ${described.join('; ')}.`,
          user_agents: userAgents,
          signatures: [...new Set(userAgents.flatMap((ua) => signatures.get(ua)!))],
        },
      };
    });
  },
};
