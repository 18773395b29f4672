/**
 * The enrollment server's calls to /data/api/data-points.json (ecosystem-api.md §2.2.5), as its
 * Python client sends them (§2.2.1): a form body (`requests.post(url, data=dict)`: fields in the
 * client's order, quote_plus encoding), JSON text from `json.dumps` in `filters`/`excludes`/
 * `order_by`, the automatic `{"recorded__lte": now}` filter first, times from `isoformat()`, the
 * token in the `token` field and the path with its doubled slash.
 */
import { pyJson } from '../test/helpers/pdk-client.ts';

export interface Participant {
  source: string;
  points: number;
  /** first_seen: the day the participant enrolled */
  enrolled: Date;
  latestCreated: Date;
}

export interface ApiCall {
  /** the job and step of the enrollment server */
  name: string;
  filters: Record<string, unknown>[];
  orderBy: string[][];
  pageSize: number;
}

/** Python's isoformat() of an aware UTC datetime: microseconds (when not 0) and +00:00. */
export function isoformat(date: Date, micros = 0): string {
  const text = date.toISOString().replace('Z', '');
  const [whole, fraction] = text.split('.');
  const us = Number(fraction) * 1000 + micros;
  return `${whole}${us ? `.${String(us).padStart(6, '0')}` : ''}+00:00`;
}

/** urllib.parse.quote_plus: everything but letters, digits and _.-~ escaped, spaces as +. */
function quotePlus(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/** The form body of one call, fields in the client's order. */
export function callBody(token: string, call: ApiCall, now: Date): string {
  const fields: [string, string][] = [
    ['token', token],
    ['page_size', String(call.pageSize)],
    ['page_index', '0'],
    ['filters', pyJson([{ recorded__lte: isoformat(now, 123) }, ...call.filters])],
    ['excludes', '[]'],
    ['order_by', pyJson(call.orderBy)],
  ];
  return fields.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join('&');
}

const DAY_MS = 86_400_000;

/**
 * One round of the enrollment server's polling for one participant, in the order its jobs run:
 * update_data_point_metadata (newest point since the last poll 15 minutes ago, then the count),
 * update_pilot_data_status (count() then [0], page size 1), update_amazon_task_metadata (orders
 * since enrolment newest first, order counts since the task started a week later),
 * check_wishlist_tasks, and sync_amazon_orders with its bogus `max_retry_duration` filter.
 */
export function pollCalls(p: Participant): ApiCall[] {
  const source = p.source;
  const lastPoll = new Date(p.latestCreated.getTime() - 15 * 60_000);
  const enrolled = new Date(p.enrolled.getTime() + DAY_MS);
  const taskActive = new Date(p.enrolled.getTime() + 7 * DAY_MS);
  const status = { generator_identifier: 'pdk-system-status', source };
  return [
    { name: 'metadata: newest since last poll', filters: [{ source, created__gt: isoformat(lastPoll, 456) }], orderBy: [['-created']], pageSize: 32 },
    { name: 'metadata: count', filters: [{ source }], orderBy: [], pageSize: 32 },
    { name: 'pilot status: count', filters: [status], orderBy: [['-created']], pageSize: 1 },
    { name: 'pilot status: [0]', filters: [status], orderBy: [['-created']], pageSize: 1 },
    { name: 'amazon orders since enrolment', filters: [{ generator_identifier: 'webmunk-amazon-order', source, created__gte: isoformat(enrolled) }], orderBy: [['-recorded']], pageSize: 32 },
    { name: 'amazon order counts', filters: [{ generator_identifier: 'webmunk-amazon-order-count', source, created__gte: isoformat(taskActive) }], orderBy: [['created']], pageSize: 32 },
    { name: 'wishlist: newest point', filters: [{ source }], orderBy: [['-created']], pageSize: 32 },
    { name: 'sync amazon orders', filters: [{ max_retry_duration: 5 }, { generator_identifier: 'webmunk-amazon-order', source }], orderBy: [], pageSize: 32 },
  ];
}
