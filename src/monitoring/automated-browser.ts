/**
 * Which user agents are automated browsers or bots: isbot's maintained list of bot, crawler and
 * headless signatures (HeadlessChrome, PhantomJS, Puppeteer, Selenium, Googlebot, ...), plus the
 * automation markers it leaves out because they appear inside ordinary browser strings (a
 * `webdriver` token, Playwright, Electron-based scrapers' `Nightmare`).
 */
import { isbotMatches } from 'isbot';

const EXTRA_SIGNATURES = /\b(webdriver|playwright|nightmare|cypress|headless)\b/i;

/** The signatures `userAgent` matches (empty when it looks like a person's browser). */
export function automationSignatures(userAgent: string | null | undefined): string[] {
  if (!userAgent) return [];
  const found = new Set(isbotMatches(userAgent));
  const extra = EXTRA_SIGNATURES.exec(userAgent);
  if (extra) found.add(extra[1]);
  return [...found];
}
