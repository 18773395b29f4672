/**
 * Which user agents are automated browsers or bots: isbot's maintained list of bot, crawler and
 * headless signatures (HeadlessChrome, PhantomJS, Puppeteer, Selenium, Googlebot, ...), plus the
 * automation markers it leaves out because they appear inside ordinary browser strings (a
 * `webdriver` token, Playwright, Electron-based scrapers' `Nightmare`).
 */
import { isbotMatches } from 'isbot';

const EXTRA_SIGNATURES = /\b(webdriver|playwright|nightmare|cypress|headless)\b/i;

/**
 * The user agent of donated points (donations/donation-bundle.ts writes it into their generator):
 * the server's own importer, which isbot takes for a bot. A participant's donation is no automation.
 */
export const DONATION_IMPORTER_USER_AGENT = 'Passive Data Kit External Importer';

/** The signatures `userAgent` matches (empty when it looks like a person's browser). */
export function automationSignatures(userAgent: string | null | undefined): string[] {
  if (!userAgent || userAgent === DONATION_IMPORTER_USER_AGENT) return [];
  const found = new Set(isbotMatches(userAgent));
  const extra = EXTRA_SIGNATURES.exec(userAgent);
  if (extra) found.add(extra[1]);
  return [...found];
}
