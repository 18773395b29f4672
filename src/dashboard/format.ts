/**
 * How the dashboard writes numbers, times and ages: the same everywhere, and readable without
 * hovering. Times are shown in the server's TIME_ZONE (the zone the study team reads).
 */

const NUMBER = new Intl.NumberFormat('en-US');

/**
 * One Intl.DateTimeFormat per (locale, options), kept: constructing one costs far more than using
 * it, and a page of 100 sources formats thousands of dates.
 */
const FORMATTERS = new Map<string, Intl.DateTimeFormat>();
export function dateFormatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let formatter = FORMATTERS.get(key);
  if (!formatter) FORMATTERS.set(key, (formatter = new Intl.DateTimeFormat(locale, options)));
  return formatter;
}

/** 1234567 → "1,234,567"; null → "–". */
export function formatCount(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return NUMBER.format(Number(value));
}

/** "2026-12-02 13:04" in `timeZone`; null → "never". */
export function formatDateTime(date: Date | null | undefined, timeZone: string): string {
  if (!date) return 'never';
  const parts = Object.fromEntries(
    dateFormatter('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** A duration in the largest sensible unit: "45 s", "12 min", "5.3 h", "3.2 days". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, seconds);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

/** How long ago `date` was, from `now`: "12 min ago"; null → "never". */
export function formatAge(date: Date | null | undefined, now = new Date()): string {
  if (!date) return 'never';
  const seconds = (now.getTime() - date.getTime()) / 1000;
  // Clients whose clocks run ahead send points "from the future".
  return seconds < 0 ? `in ${formatDuration(-seconds)}` : `${formatDuration(seconds)} ago`;
}

/** Points per second as the unit a person reads: "3.1 / min", "42 / h", "5.0 / day". */
export function formatFrequency(hz: number | null | undefined): string {
  if (hz === null || hz === undefined || !Number.isFinite(hz) || hz <= 0) return '–';
  if (hz >= 1) return `${hz.toFixed(1)} / s`;
  if (hz * 60 >= 1) return `${(hz * 60).toFixed(1)} / min`;
  if (hz * 3600 >= 1) return `${(hz * 3600).toFixed(1)} / h`;
  return `${(hz * 86400).toFixed(1)} / day`;
}

const BROWSERS: Array<[RegExp, string]> = [
  [/HeadlessChrome\/(\d+)/, 'HeadlessChrome'],
  [/Edg\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/Firefox\/(\d+)/, 'Firefox'],
  [/Chrome\/(\d+)/, 'Chrome'],
  [/Version\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];
const SYSTEMS: Array<[RegExp, string]> = [
  [/Android/, 'Android'], [/iPhone|iPad/, 'iOS'], [/Windows/, 'Windows'], [/Mac OS X|Macintosh/, 'macOS'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux'],
];

/**
 * A user agent in a few words for a narrow column ("Chrome 144 on Windows"), the full text being
 * shown on hover; what the summary cannot name is shortened instead.
 */
export function summarizeUserAgent(userAgent: string): string {
  const browser = BROWSERS.map(([pattern, name]) => [pattern.exec(userAgent), name] as const).find(([match]) => match);
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (!browser) return userAgent.length > 60 ? `${userAgent.slice(0, 60)}…` : userAgent;
  return `${browser[1]} ${browser[0]![1]}${system ? ` on ${system}` : ''}`;
}

/** A file size as people read it: "812 B", "4.2 MB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '–';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
