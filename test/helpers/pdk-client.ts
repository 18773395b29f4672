/**
 * The PDK API's Python client as the enrollment server runs it (ecosystem-api.md §2.2.1): form-encoded
 * POSTs to `site_url + '/api/...'` with a site URL ending in a slash (so `/data//api/...`), the
 * token as a form field, and filters as Python's json.dumps writes them (", " and ": ").
 */

/** Python's json.dumps with its default separators. */
export function pyJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** A match of data-points.json (a point) or data-sources.json (a source). */
export type ApiMatch = { [key: string]: unknown; 'passive-data-metadata': { [key: string]: unknown; pdk_server_created: number; pdk_server_recorded: number } };

/** Any reply of the API, typed loosely for tests: each call fills the keys it has. */
export interface ApiBody {
  latest: number;
  count: number;
  page_index: number;
  page_size: number;
  matches: ApiMatch[];
  updated: number;
  token: string;
  expires: string;
  message: string;
  code: string;
}

export interface ClientQuery {
  filters?: unknown[];
  excludes?: unknown[];
  orderBy?: string[][];
  pageSize?: number;
  pageIndex?: number;
}

/** POSTs the fields in the client's order; returns status, headers and the parsed body. */
export async function pdkPost(baseUrl: string, path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; body: ApiBody }> {
  const response = await fetch(`${baseUrl}/data/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await response.text();
  let body: ApiBody;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined as unknown as ApiBody;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** `PDKClient.query_data_points(...)`: the automatic recorded__lte filter first, then the caller's. */
export function dataPointsQuery(baseUrl: string, token: string, query: ClientQuery, now = new Date()) {
  return pdkPost(baseUrl, '/api/data-points.json', {
    token,
    page_size: String(query.pageSize ?? 32),
    page_index: String(query.pageIndex ?? 0),
    filters: pyJson([{ recorded__lte: pythonTime(now) }, ...(query.filters ?? [])]),
    excludes: pyJson(query.excludes ?? []),
    order_by: pyJson(query.orderBy ?? []),
  });
}

/** datetime.isoformat() of an aware UTC time. */
export function pythonTime(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000+00:00`;
}
