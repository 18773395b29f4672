/**
 * The alert digest e-mail, laid out as the original's templates (mail/pdk_alert_digest_mail_*.txt)
 * render: a subject with the number of sources that have active alerts, and one block per source.
 * Unlike the original, a source identifier (chosen by whoever uploads) is quoted, cut to
 * SOURCE_LENGTH characters and escaped, and each alert's message is kept to one line of at most
 * MESSAGE_LENGTH characters, so an uploader cannot write lines into the study's e-mail.
 */
import type { Alert } from './alerts.repository.ts';
import { oneLine, quoteText } from './plain-text.ts';

export const SOURCE_LENGTH = 100;
export const MESSAGE_LENGTH = 1000;

const AP_MONTHS = ['Jan.', 'Feb.', 'March', 'April', 'May', 'June', 'July', 'Aug.', 'Sept.', 'Oct.', 'Nov.', 'Dec.'];

/** A time as Django shows a datetime by default ("N j, Y, P": "Jan. 5, 2026, 3:04 p.m.", "noon"), in `timeZone`. */
export function formatDjangoDateTime(date: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const [year, month, day, hour, minute] = [parts.year, parts.month, parts.day, parts.hour, parts.minute].map(Number);
  let time: string;
  if (hour === 0 && minute === 0) time = 'midnight';
  else if (hour === 12 && minute === 0) time = 'noon';
  else {
    const hour12 = hour % 12 === 0 ? 12 : hour % 12;
    time = `${hour12}${minute === 0 ? '' : `:${String(minute).padStart(2, '0')}`} ${hour < 12 ? 'a.m.' : 'p.m.'}`;
  }
  return `${AP_MONTHS[month - 1]} ${day}, ${year}, ${time}`;
}

export interface DigestMessage {
  subject: string;
  text: string;
  /** sources with at least one active alert */
  sources: number;
  alerts: number;
}

/** Subject and body for `alerts` (the active ones), grouped by source identifier in the given order. */
export function composeAlertDigest(alerts: readonly Alert[], timeZone: string): DigestMessage {
  const bySource = new Map<string, Alert[]>();
  for (const alert of alerts) {
    const list = bySource.get(alert.source) ?? [];
    list.push(alert);
    bySource.set(alert.source, list);
  }
  // What the original's template renders, blank lines included, before it collapses them.
  let text = '\nThe following alerts were active as of this e-mail:\n\n';
  for (const [source, list] of bySource) {
    text += `\n${quoteText(source, SOURCE_LENGTH)}: ${list.length} Alert(s)\n`;
    for (const alert of list) {
      text += ` - ${oneLine(alert.name, 200)}: ${oneLine(String(alert.details.message ?? ''), MESSAGE_LENGTH)} (${formatDjangoDateTime(alert.created, timeZone)})\n`;
    }
    text += '\n';
  }
  while (text.includes('\n\n\n')) text = text.replaceAll('\n\n\n', '\n\n');
  return { subject: `Alert Digest: ${bySource.size} Affected Users`, text, sources: bySource.size, alerts: alerts.length };
}
