/**
 * The dashboard benchmark's study, built as a real study is: a roster uploaded on the home page,
 * then each participant's points, real-format points of six types (test/helpers/study-points.ts),
 * uploaded through /data/add-bundle.json as gzip form bundles, in the order they would arrive.
 */
import { gzipSync } from 'node:zlib';
import { seededRandom, studyPoint } from '../test/helpers/study-points.ts';
import type { Upload } from './uploads.ts';

export const sourceId = (n: number) => `P${String(n).padStart(5, '0')}`;

const EXTENSION = 'Webmunk Study Extension/0.3.1';
const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:133.0) Gecko/20100101 Firefox/133.0',
];
const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/144.0.0.0 Safari/537.36';

/** Data types and their weights among a participant's points (a status point ends every bundle). */
const MIX: Array<[string, number]> = [
  ['webmunk-history-visit', 30],
  ['webmunk-extension-element-show', 25],
  ['webmunk-extension-scroll-position', 20],
  ['webmunk-extension-matched-rule', 15],
  ['webmunk-extension-element-hide', 6],
  ['webmunk-extension-element-click', 4],
];
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0);

function pickType(random: () => number): string {
  let at = random() * MIX_TOTAL;
  for (const [type, weight] of MIX) if ((at -= weight) < 0) return type;
  return MIX[0][0];
}

/** The roster as the home page's source-list upload takes it: every source, a name for every fifth, `groups` groups (0: none). */
export function rosterTsv(sources: number, groups: number): string {
  const lines = [groups ? 'Source ID\tSource Name\tGroup' : 'Source ID\tSource Name'];
  for (let n = 0; n < sources; n++) lines.push(`${sourceId(n)}\t${n % 5 === 0 ? `Participant ${n}` : ''}${groups ? `\tCohort ${1 + (n % groups)}` : ''}`);
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * How long source n has been silent: most participants uploaded in the last hours, one in seven
 * stopped 1 to 7 days ago, one in twenty-five 8 to 13 days ago (the upload-overdue alerts).
 */
function silenceMs(n: number, random: () => number): number {
  const hour = 3_600_000;
  if (n % 25 === 3) return (8 + random() * 5) * 24 * hour;
  if (n % 7 === 2) return (1 + random() * 6) * 24 * hour;
  return random() * 6 * hour;
}

/** What follows the generator id in source n's points: the extension and the browser (one in 100 headless). */
function userAgentOf(n: number): string {
  return `${EXTENSION} ${n % 100 === 42 ? HEADLESS : BROWSERS[n % 10 < 6 ? 0 : n % 10 < 9 ? 1 : 2]}`;
}

function formUpload(source: string, points: unknown[]): Upload {
  const gzipped = gzipSync(Buffer.from(JSON.stringify(points, null, 2)));
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(new URLSearchParams({ compression: 'gzip', payload: gzipped.toString('base64') }).toString()),
    points: points.length,
    stored: { compression: 'gzip', body: gzipped },
  };
}

/**
 * Every source's `perSource` points over the `days` days before `now`, in `bundlesPerSource`
 * uploads each (its points in time order, the last of each a pdk-system-status point, as the
 * extension sends them), all uploads sorted by when they would have been sent.
 */
export function studyUploads(options: { sources: number; perSource: number; bundlesPerSource: number; days: number; now: number }): Upload[] {
  const random = seededRandom(17);
  const sent: Array<{ at: number; upload: Upload }> = [];
  for (let n = 0; n < options.sources; n++) {
    const source = sourceId(n);
    const userAgent = userAgentOf(n);
    const end = options.now - silenceMs(n, random);
    const start = options.now - options.days * 86_400_000;
    const times = Array.from({ length: options.perSource }, () => start + random() * (end - start)).sort((a, b) => a - b);
    const perBundle = Math.ceil(options.perSource / options.bundlesPerSource);
    for (let from = 0; from < times.length; from += perBundle) {
      const slice = times.slice(from, from + perBundle);
      const points = slice.map((time, i) => {
        const context = { source, created: new Date(time), userAgent, random };
        return i === slice.length - 1 ? studyPoint('pdk-system-status', context) : studyPoint(pickType(random), context);
      });
      sent.push({ at: slice[slice.length - 1], upload: formUpload(source, points) });
    }
  }
  return sent.sort((a, b) => a.at - b.at).map((s) => s.upload);
}

/** One more upload from each of the first `sources` sources, `perSource` points from the last hour. */
export function newPointUploads(options: { sources: number; perSource: number; now: number }): Upload[] {
  const random = seededRandom(29);
  const uploads: Upload[] = [];
  for (let n = 0; n < options.sources; n++) {
    const source = sourceId(n);
    const userAgent = userAgentOf(n);
    const points = Array.from({ length: options.perSource }, (_, i) =>
      studyPoint(i === options.perSource - 1 ? 'pdk-system-status' : pickType(random), { source, created: new Date(options.now - (options.perSource - i) * 30_000), userAgent, random }));
    uploads.push(formUpload(source, points));
  }
  return uploads;
}
