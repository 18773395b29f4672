/**
 * Golden tests of every TSV exporter, cell by cell: points uploaded over HTTP, processed, exported
 * into an archive and read back (webmunk-server.md §5.2–5.4, pdk-server.md §7.4, webmunk-clients.md
 * §4). The expected cells are written from the spec and the input points. `Date Recorded` is the
 * upload time, so it is checked against the database's `recorded` and the zone's offset instead.
 */
import { parse } from 'csv-parse/sync';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { samples, type Point } from '../helpers/samples.ts';
import { useTestServer, type TestServer } from '../helpers/server.ts';
import { exportArchive, uploadPoints, type ZipEntry } from './support.ts';

// ---- the sample points' values (webmunk-clients.md §8) ----
const SEARCH_URL = 'https://www.amazon.com/s?k=usb+c+charger&crid=2M8Q4ZJ7XK1PA&sprefix=usb+c+charger%2Caps%2C112&ref=nb_sb_noss_1';
const TITLE = 'Amazon.com : usb c charger';
const PAGE = '3b9f1c7e-8d2a-4f61-9a0b-5e7c2d41f8a3';
const TAB = '1843211302';
const NY = 'America/New_York';
const ASIN_HTML = '<div data-asin="B0BXYZ1234" data-index="3" class="sg-col-4-of-24 s-result-item s-asin webmunk-asin-item webmunk_id_a1f0c2d3-44b5-4c6d-8e7f-90a1b2c3d4e5"><div class="a-section"><h2><a class="a-link-normal" href="/Anker-Charger-Foldable-PowerPort-Compatible/dp/B0BXYZ1234/ref=sr_1_3"><span class="a-text-normal">Anker USB C Charger 20W, 511 Charger (Nano)</span></a></h2><span class="a-price"><span class="a-offscreen">$15.99</span></span></div></div>';
const BUTTON_HTML = '<span class="a-button a-button-primary webmunk-button webmunk_id_77c3e0aa-0b1d-4c2e-9f3a-1d2e3f405162"><span class="a-button-inner"><input name="submit.addToCart" class="a-button-input" type="submit" value="Add to Cart"></span></span>';

// ---- field encryption test vector (webmunk-clients.md §4) ----
const SERVER_SECRET = new Uint8Array(Buffer.from('r6Wq0p4Yk3f1c8G2bVxTzQm9JHs5uEaLdN7oKiW3tPA=', 'base64'));
const SERVER_PUBLIC = new Uint8Array(Buffer.from('FhSSoR8r3z/7dgYbjzod66hpB/b0DjezRVssw44i4xQ=', 'base64'));
const CLIENT = nacl.box.keyPair.fromSecretKey(new Uint8Array(32).fill(7));
let nonceCounter = 0;

/** What a 2022 client stored under a `*` key: base64(nonce ‖ box(JSON of the value)). */
function encrypt(value: unknown): string {
  const nonce = new Uint8Array(nacl.box.nonceLength).fill(++nonceCounter);
  const box = nacl.box(new Uint8Array(Buffer.from(JSON.stringify(value))), nonce, SERVER_PUBLIC, CLIENT.secretKey);
  return Buffer.concat([nonce, box]).toString('base64');
}

// ---- headers (webmunk-server.md §5.3–5.4, pdk-server.md §7.4) ----
const VISIBILITY_HEADER = ['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Tab ID', 'Page ID', 'Visible', 'Element Class', 'Top', 'Left', 'Width', 'Height', 'URL', 'Page Title', 'Element HTML'];
const HEADERS = {
  amazonOrder: ['Source', 'Date Created', 'Date Created UTC', 'Date Recorded', 'Date Recorded UTC', 'Time Zone', 'Order Number', 'Order Date', 'Item ASIN', 'Item Title', 'Item Seller', 'Item Condition', 'Item Price', 'Item URL', 'Order Subtotal', 'Order Pretax Total', 'Order Tax', 'Order Shipping', 'Order Total', 'Destination', 'Delivery Date'],
  action: ['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Action'],
  classAdded: ['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Tab ID', 'Page ID', 'URL', 'Page Title', 'Class Name', 'Element HTML'],
  click: ['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Tab ID', 'Page ID', 'Element Class', 'Top', 'Left', 'Width', 'Height', 'URL', 'Page Title', 'Element HTML'],
  show: VISIBILITY_HEADER,
  hide: VISIBILITY_HEADER,
  logElements: ['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Tab ID', 'Page ID', 'URL', 'Page Title', 'Pattern', 'Top', 'Left', 'Width', 'Height', 'Element HTML'],
  matchedRule: ['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Tab ID', 'Page ID', 'Rule', 'Count', 'URL', 'Page Title'],
  scroll: ['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Tab ID', 'Page ID', 'Top', 'Left', 'Width', 'Height', 'URL', 'Page Title'],
  localTasks: ['Source', 'Date Created', 'Date Created UTC', 'Date Recorded', 'Date Recorded UTC', 'Time Zone', 'Task Count', 'Task Name(s)'],
  visibility: VISIBILITY_HEADER,
  generic: ['Source', 'Generator', 'Generator Identifier', 'Created Timestamp', 'Created Date', 'Latitude', 'Longitude', 'Recorded Timestamp', 'Recorded Date', 'Properties'],
};

// ---- building points ----
const meta = (point: Point) => point['passive-data-metadata']!;

/** Sample `index` moved to `source`, optionally with its own timestamp (seconds) and edits. */
function point(index: number, source: string, timestamp?: number, edit: (p: Point) => void = () => undefined): Point {
  const [p] = samples(index);
  meta(p).source = source;
  if (timestamp !== undefined) meta(p).timestamp = timestamp;
  edit(p);
  return p;
}

/** Removes the `*` forms of the sensitive fields (for points that carry only `!` twins). */
function withoutStars(p: Point): void {
  for (const key of Object.keys(p)) if (key.endsWith('*')) delete p[key];
}

// ---- reading the output ----
type Cell = string | ((actual: string) => void);

/** The same quoting rule as the spec states it: only a tab, quote, CR or LF needs quotes. */
const pythonQuoted = (cell: string) => (/[\t"\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);

/**
 * Asserts an entry cell by cell. The bytes must also equal the parsed cells written back with
 * minimal quoting and CRLF, so extra quoting or LF line ends fail too. Function cells check the
 * actual cell (Date Recorded, Properties) and then count as equal.
 */
function expectTsv(entry: ZipEntry | undefined, expected: Cell[][]): string[][] {
  expect(entry, 'the archive entry').toBeDefined();
  const text = entry!.data.toString('utf8');
  const rows: string[][] = parse(text, { delimiter: '\t', quote: '"', record_delimiter: '\r\n', relax_column_count: true });
  expect(rows.map((row) => `${row.map(pythonQuoted).join('\t')}\r\n`).join('')).toBe(text);
  const resolved = expected.map((row, r) => row.map((cell, c) => {
    if (typeof cell === 'string') return cell;
    const actual = rows[r]?.[c];
    expect(actual, `row ${r} column ${c}`).toBeTypeOf('string');
    cell(actual!);
    return actual!;
  }));
  expect(rows).toEqual(resolved);
  return rows;
}

/** The zone's UTC offset at `ms` as isoformat() prints it, from Intl (not from the code under test). */
function offsetOf(zone: string, ms: number): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(ms).find((p) => p.type === 'timeZoneName')!.value;
  return name === 'GMT' ? '+00:00' : name.slice(3);
}

/** A cell that must be `micros` in `zone`, ISO-8601 with the zone's offset, microseconds only if nonzero. */
function instantIn(micros: number, zone: string): (cell: string) => void {
  return (cell) => {
    const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{6})?([+-]\d\d:\d\d)$/.exec(cell);
    expect(match, `"${cell}" is isoformat() output`).not.toBeNull();
    const [, wall, fraction, offset] = match!;
    expect(offset).toBe(offsetOf(zone, Math.floor(micros / 1000)));
    expect(Date.parse(`${wall}${offset}`)).toBe(Math.floor(micros / 1_000_000) * 1000);
    const micro = micros % 1_000_000;
    expect(fraction ?? '').toBe(micro ? `.${String(micro).padStart(6, '0')}` : '');
  };
}

const entryNames = (archive: Map<string, ZipEntry>) => [...archive.keys()].sort();

function helpers(server: TestServer) {
  return {
    /** The one `recorded` (microseconds) of a source's points: they came in one upload. */
    async recordedOf(source: string): Promise<number> {
      const { rows } = await server.db.pool.query('SELECT DISTINCT (extract(epoch FROM recorded) * 1000000)::int8 AS us FROM data_points WHERE source = $1', [source]);
      expect(rows, `one upload time for ${source}`).toHaveLength(1);
      return Number(rows[0].us);
    },
  };
}

describe('TSV exporters, cell by cell (server TIME_ZONE America/Chicago)', () => {
  const server = useTestServer({ TIME_ZONE: 'America/Chicago' });
  const { recordedOf } = helpers(server);

  it('webmunk-amazon-order: one row per item, order-Tax fallback, Order Date cut at T, missing values empty', async () => {
    const source = 'amazon-1';
    const twoItems = point(10, source, undefined, (p) => {
      (p.items as unknown[]).push({ url: '/gp/product/B07ABCDEF1/ref=x', title: 'USB-C Cable, 6 ft', asin: 'B07ABCDEF1', price: '$9.49', condition: 'Used - Like New' });
    });
    const older = point(10, source, 1694706000.5, (p) => {
      p['order-number'] = '114-0000000-0000001';
      p['order-date'] = '2023-08-01';
      delete p['order-tax'];
      p['order-Tax'] = '$0.50';
      p['order-subtotal'] = '';
      delete p['order-destination'];
      delete p['order-delivered'];
    });
    const noItems = point(10, source, 1694706001, (p) => { p.items = []; });
    const itemsMissing = point(10, source, 1694706002, (p) => { delete p.items; });
    await uploadPoints(server, [older, twoItems, noItems, itemsMissing]);
    const archive = await exportArchive(server, { types: ['webmunk-amazon-order'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-amazon-order.txt']);
    const recorded = await recordedOf(source);
    const times = (created: string, createdUtc: string) => [created, createdUtc, instantIn(recorded, NY), instantIn(recorded, 'UTC'), NY];
    const order = ['$15.99', '$15.99', '$1.00', '$0.00', '$16.99', 'CAMBRIDGE, MA 02138-3654', '2023-08-29T04:00:00.000Z'];
    expectTsv(archive.get('webmunk-amazon-order.txt'), [
      HEADERS.amazonOrder,
      [source, ...times('2023-09-14T11:50:41.876000-04:00', '2023-09-14T15:50:41.876000+00:00'), '114-3941689-8772232', '2023-08-27',
        'B0BXYZ1234', 'Anker USB C Charger 20W, 511 Charger (Nano)', 'AnkerDirect', 'New', '$15.99', '/gp/product/B0BXYZ1234/ref=ppx_yo_dt_b_asin_title_o00_s00?ie=UTF8&psc=1', ...order],
      [source, ...times('2023-09-14T11:50:41.876000-04:00', '2023-09-14T15:50:41.876000+00:00'), '114-3941689-8772232', '2023-08-27',
        'B07ABCDEF1', 'USB-C Cable, 6 ft', '', 'Used - Like New', '$9.49', '/gp/product/B07ABCDEF1/ref=x', ...order],
      [source, ...times('2023-09-14T11:40:00.500000-04:00', '2023-09-14T15:40:00.500000+00:00'), '114-0000000-0000001', '2023-08-01',
        'B0BXYZ1234', 'Anker USB C Charger 20W, 511 Charger (Nano)', 'AnkerDirect', 'New', '$15.99', '/gp/product/B0BXYZ1234/ref=ppx_yo_dt_b_asin_title_o00_s00?ie=UTF8&psc=1',
        '', '$15.99', '$0.50', '$0.00', '$16.99', '', ''],
    ]);
  });

  it('webmunk-extension-action: Source, dates, Time Zone, Action', async () => {
    const source = 'action-1';
    await uploadPoints(server, [point(7, source)]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-action'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-action.txt']);
    expectTsv(archive.get('webmunk-extension-action.txt'), [
      HEADERS.action,
      [source, '2023-09-14T11:38:30.066000-04:00', instantIn(await recordedOf(source), NY), NY, 'show-main-screen'],
    ]);
  });

  it('webmunk-extension-class-added: `*` else `!`, Class Name, Element HTML', async () => {
    const source = 'class-1';
    const twinsOnly = point(1, source, 1694706100, (p) => {
      withoutStars(p);
      Object.assign(p, { 'url!': 'https://plain.example/page', 'page-title!': 'Plain title', 'element-content!': '<b>plain</b>' });
    });
    // Post-2023 clients send cleartext under `*` and no twin; a twin means the `*` value was
    // encrypted, so without a generated-key to open it the twin is written.
    const both = point(1, source, 1694706050.25, (p) => {
      Object.assign(p, { 'url!': 'https://twin.example/', 'page-title!': 'Twin', 'element-content!': '<b>twin</b>', 'class-name': 'other-class' });
    });
    await uploadPoints(server, [twinsOnly, point(1, source), both]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-class-added'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-class-added.txt']);
    const rec = instantIn(await recordedOf(source), NY);
    expectTsv(archive.get('webmunk-extension-class-added.txt'), [
      HEADERS.classAdded,
      [source, '2023-09-14T11:43:09.511000-04:00', rec, NY, TAB, PAGE, SEARCH_URL, TITLE, 'webmunk-asin-item', ASIN_HTML],
      [source, '2023-09-14T11:41:40-04:00', rec, NY, TAB, PAGE, 'https://plain.example/page', 'Plain title', 'webmunk-asin-item', '<b>plain</b>'],
      [source, '2023-09-14T11:40:50.250000-04:00', rec, NY, TAB, PAGE, 'https://twin.example/', 'Twin', 'other-class', '<b>twin</b>'],
    ]);
  });

  it('webmunk-extension-element-click: URL only from `url*`, Page Title and HTML `*` else `!`, no page content', async () => {
    const source = 'click-1';
    const twinsOnly = point(4, source, 1694706150, (p) => {
      withoutStars(p);
      Object.assign(p, { 'url!': 'https://twin.example/click', 'page-title!': 'Twin title', 'element-content!': '<i>twin</i>' });
    });
    await uploadPoints(server, [twinsOnly, point(4, source)]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-element-click'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-element-click.txt']);
    const rec = instantIn(await recordedOf(source), NY);
    const entry = archive.get('webmunk-extension-element-click.txt');
    expectTsv(entry, [
      HEADERS.click,
      [source, '2023-09-14T11:43:24.113000-04:00', rec, NY, TAB, PAGE, 'webmunk-button', '1622', '227', '96', '29', SEARCH_URL, TITLE, BUTTON_HTML],
      [source, '2023-09-14T11:42:30-04:00', rec, NY, TAB, PAGE, 'webmunk-button', '1622', '227', '96', '29', '', 'Twin title', '<i>twin</i>'],
    ]);
    expect(entry!.data.toString()).not.toContain('a-m-us a-aui_72554-c');
  });

  it('webmunk-extension-element-show: Visible 1, geometry as Python prints it', async () => {
    const source = 'show-1';
    await uploadPoints(server, [point(2, source)]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-element-show'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-element-show.txt']);
    expectTsv(archive.get('webmunk-extension-element-show.txt'), [
      HEADERS.show,
      [source, '2023-09-14T11:43:11.027000-04:00', instantIn(await recordedOf(source), NY), NY, TAB, PAGE, '1', 'webmunk-asin-item', '1236.5', '212', '302', '561.59375', SEARCH_URL, TITLE, ASIN_HTML],
    ]);
  });

  it('webmunk-extension-element-hide: Visible 0, and the header in the show order (the original misaligned it)', async () => {
    const source = 'hide-1';
    await uploadPoints(server, [point(3, source)]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-element-hide'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-element-hide.txt']);
    expectTsv(archive.get('webmunk-extension-element-hide.txt'), [
      ['Source', 'Date Created', 'Date Recorded', 'Time Zone', 'Tab ID', 'Page ID', 'Visible', 'Element Class', 'Top', 'Left', 'Width', 'Height', 'URL', 'Page Title', 'Element HTML'],
      [source, '2023-09-14T11:43:19.450000-04:00', instantIn(await recordedOf(source), NY), NY, TAB, PAGE, '0', 'webmunk-asin-item', '1236.5', '212', '302', '561.59375', SEARCH_URL, TITLE, ASIN_HTML],
    ]);
  });

  it('webmunk-extension-log-elements: a file per source, a row per match, malformed and empty skipped', async () => {
    const newer = point(6, 'LOG-A', 1694706300, (p) => {
      delete p['page-title*'];
      Object.assign(p, {
        'url*': 'https://example.com/list',
        'page-title!': 'Twin list title',
        // the original filled a match without HTML from this (a fixed bug)
        'element-content!': 'POINT LEVEL HTML',
        'pattern-matches': {
          'li.result': [
            { 'element-content*': '<li>\n one\r\n</li>', offset: { top: 10, left: 0.5 }, size: { width: 100, height: 20.25 } },
            { offset: { top: 40, left: 0 }, size: { width: 100, height: 20 } },
            'not a match', null, 7, [1, 2],
            { offset: null, size: {} },
            { 'element-content*': '<li>bad offset</li>', offset: 'x' },
            { 'element-content*': '<li>bad size</li>', size: [1, 2] },
            { 'element-content*': 12 },
            { 'element-content*': null },
            { 'element-content!': '<li>twin</li>', offset: { top: 1 } },
          ],
          h2: [{ 'element-content*': '<h2>Title</h2>', offset: { top: 5, left: 6 }, size: { width: 7, height: 8 } }],
          'div.empty': [],
          '#weird': 'not a list',
        },
      });
    });
    const noMatches = point(6, 'LOG-A', 1694706400, (p) => { delete p['pattern-matches']; });
    await uploadPoints(server, [point(6, 'LOG-A'), newer, noMatches, point(6, 'log b')]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-log-elements'], sources: ['log b', 'LOG-A'] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-log-elements/log-a.txt', 'webmunk-extension-log-elements/log-b.txt']);
    const recA = instantIn(await recordedOf('LOG-A'), NY);
    const newRow = (pattern: string, geometry: string[], html: string) =>
      ['LOG-A', '2023-09-14T11:45:00-04:00', recA, NY, TAB, PAGE, 'https://example.com/list', 'Twin list title', pattern, ...geometry, html];
    const sampleRow = (source: string, rec: Cell) =>
      [source, '2023-09-14T11:43:08.930000-04:00', rec, NY, TAB, PAGE, SEARCH_URL, TITLE, "[data-asin!=''][data-asin]", '1236.5', '212', '302', '561.59375', ASIN_HTML];
    // Patterns come in the stored jsonb's key order (shorter keys first), as the original read them.
    expectTsv(archive.get('webmunk-extension-log-elements/log-a.txt'), [
      HEADERS.logElements,
      newRow('h2', ['5', '6', '7', '8'], '<h2>Title</h2>'),
      newRow('li.result', ['10', '0.5', '100', '20.25'], '<li> one</li>'),
      newRow('li.result', ['40', '0', '100', '20'], ''),
      newRow('li.result', ['1', '', '', ''], '<li>twin</li>'),
      sampleRow('LOG-A', recA),
    ]);
    expectTsv(archive.get('webmunk-extension-log-elements/log-b.txt'), [
      HEADERS.logElements,
      sampleRow('log b', instantIn(await recordedOf('log b'), NY)),
    ]);
  });

  it('webmunk-extension-matched-rule: Rule, Count (-1 when absent)', async () => {
    const source = 'rule-1';
    await uploadPoints(server, [point(0, source), point(0, source, 1694706000, (p) => { delete p.count; })]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-matched-rule'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-matched-rule.txt']);
    const rec = instantIn(await recordedOf(source), NY);
    expectTsv(archive.get('webmunk-extension-matched-rule.txt'), [
      HEADERS.matchedRule,
      [source, '2023-09-14T11:43:09.482000-04:00', rec, NY, TAB, PAGE, ":isAmazonProductItem('')", '48', SEARCH_URL, TITLE],
      [source, '2023-09-14T11:40:00-04:00', rec, NY, TAB, PAGE, ":isAmazonProductItem('')", '-1', SEARCH_URL, TITLE],
    ]);
  });

  it('webmunk-extension-scroll-position: the top-level Top, Left, Width, Height', async () => {
    const source = 'scroll-1';
    await uploadPoints(server, [point(5, source)]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-scroll-position'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-scroll-position.txt']);
    expectTsv(archive.get('webmunk-extension-scroll-position.txt'), [
      HEADERS.scroll,
      [source, '2023-09-14T11:43:10.774000-04:00', instantIn(await recordedOf(source), NY), NY, TAB, PAGE, '1180', '0', '1519', '739', SEARCH_URL, TITLE],
    ]);
  });

  it('webmunk-local-tasks: Task Count and the messages joined with `;`', async () => {
    const source = 'tasks-1';
    const sparse = point(8, source, 1694706000, (p) => { p['pending-tasks'] = [{ message: 'First' }, { url: 'https://x.example/' }, { message: 'Third' }]; });
    const none = point(8, source, 1694705000, (p) => { delete p['pending-tasks']; });
    await uploadPoints(server, [none, point(8, source), sparse]);
    const archive = await exportArchive(server, { types: ['webmunk-local-tasks'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-local-tasks.txt']);
    const recorded = await recordedOf(source);
    const [recNy, recUtc] = [instantIn(recorded, NY), instantIn(recorded, 'UTC')];
    expectTsv(archive.get('webmunk-local-tasks.txt'), [
      HEADERS.localTasks,
      [source, '2023-09-14T11:44:05.002000-04:00', '2023-09-14T15:44:05.002000+00:00', recNy, recUtc, NY, '2', 'Share Amazon order history;Complete Initial Survey'],
      [source, '2023-09-14T11:40:00-04:00', '2023-09-14T15:40:00+00:00', recNy, recUtc, NY, '3', 'First;;Third'],
      [source, '2023-09-14T11:23:20-04:00', '2023-09-14T15:23:20+00:00', recNy, recUtc, NY, '0', ''],
    ]);
  });

  it('webmunk-visibility-export: show and hide in one file, newest first, `!` read before `*`', async () => {
    const source = 'vis-1';
    const twins = (p: Point) => Object.assign(p, {
      'url*': 'https://star.example/', 'url!': 'https://bang.example/',
      'page-title*': 'Star title', 'page-title!': 'Bang title',
      'element-content*': '<p>star</p>', 'element-content!': '<p>bang\nline</p>',
    });
    await uploadPoints(server, [point(2, source), point(2, source, 1694706000, twins), point(3, source)]);
    const archive = await exportArchive(server, { types: ['webmunk-visibility-export', 'webmunk-extension-element-show'], sources: [source] });
    expect(entryNames(archive)).toEqual(['README.txt', 'webmunk-extension-element-show.txt', 'webmunk-visibility-export.txt']);
    const rec = instantIn(await recordedOf(source), NY);
    const geometry = ['webmunk-asin-item', '1236.5', '212', '302', '561.59375'];
    expectTsv(archive.get('webmunk-visibility-export.txt'), [
      HEADERS.visibility,
      [source, '2023-09-14T11:43:19.450000-04:00', rec, NY, TAB, PAGE, '0', ...geometry, SEARCH_URL, TITLE, ASIN_HTML],
      [source, '2023-09-14T11:43:11.027000-04:00', rec, NY, TAB, PAGE, '1', ...geometry, SEARCH_URL, TITLE, ASIN_HTML],
      [source, '2023-09-14T11:40:00-04:00', rec, NY, TAB, PAGE, '1', ...geometry, 'https://bang.example/', 'Bang title', '<p>bangline</p>'],
    ]);
    // the show exporter alone reads `*` first, but a twin means its `*` was encrypted, and
    // without a generated-key it cannot be opened
    expectTsv(archive.get('webmunk-extension-element-show.txt'), [
      HEADERS.show,
      [source, '2023-09-14T11:43:11.027000-04:00', rec, NY, TAB, PAGE, '1', ...geometry, SEARCH_URL, TITLE, ASIN_HTML],
      [source, '2023-09-14T11:40:00-04:00', rec, NY, TAB, PAGE, '1', ...geometry, 'https://bang.example/', 'Bang title', '<p>bangline</p>'],
    ]);
  });

  it('a type without an exporter of its own gets the generic PDK layout (pdk-web-visit, a made-up type)', async () => {
    const visit = point(18, 'pdk-demo-participant-07');
    const madeUp: Point = {
      value: 'a\tb "c"\nd', nested: { x: [1, 2.5, null, true] }, text: 'é 日本',
      'passive-data-metadata': { source: 'madeup-1', generator: 'made-up-type: Test/1.0', 'generator-id': 'made-up-type', timestamp: 1694706191.75, timezone: 'Asia/Kolkata' },
    };
    await uploadPoints(server, [visit, madeUp]);
    const archive = await exportArchive(server, { types: ['pdk-web-visit', 'made-up-type'], sources: ['pdk-demo-participant-07', 'madeup-1'] });
    expect(entryNames(archive)).toEqual(['README.txt', 'made-up-type.txt', 'pdk-web-visit.txt']);
    const stored = (p: Point) => ({ ...p, 'passive-data-metadata': { ...meta(p), encrypted_transmission: false } });
    /** Compact JSON of the stored point; jsonb reorders keys, so compared as values. */
    const properties = (p: Point) => (cell: string) => {
      expect(JSON.parse(cell)).toEqual(stored(p));
      expect(cell).toBe(JSON.stringify(JSON.parse(cell)));
    };
    const recordedCells = async (source: string) => {
      const recorded = await recordedOf(source);
      return [String(Math.floor(recorded / 1_000_000)), instantIn(recorded, 'America/Chicago')];
    };
    expectTsv(archive.get('pdk-web-visit.txt'), [
      HEADERS.generic,
      ['pdk-demo-participant-07', 'Passive Data Kit/0.1.0 Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/73.0.3683.86 Safari/537.36', 'pdk-web-visit',
        '1553612034', '2019-03-26T09:53:54.171813-05:00', '', '', ...(await recordedCells('pdk-demo-participant-07')), properties(visit)],
    ]);
    // Created Date is in the server's zone, not the point's own
    expectTsv(archive.get('made-up-type.txt'), [
      HEADERS.generic,
      ['madeup-1', 'made-up-type: Test/1.0', 'made-up-type', '1694706191', '2023-09-14T10:43:11.750000-05:00', '', '', ...(await recordedCells('madeup-1')), properties(madeUp)],
    ]);
  });

  it("uses the point's own zone (+05:30), else the server's for an unknown or missing zone name", async () => {
    const kolkata = point(7, 'tz-a', undefined, (p) => { meta(p).timezone = 'Asia/Kolkata'; });
    const mars = point(7, 'tz-b', undefined, (p) => { meta(p).timezone = 'Mars/Olympus'; });
    const missing = point(7, 'tz-c', undefined, (p) => { delete meta(p).timezone; });
    const empty = point(7, 'tz-d', undefined, (p) => { meta(p).timezone = ''; });
    await uploadPoints(server, [kolkata, mars, missing, empty]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-action'], sources: ['tz-a', 'tz-b', 'tz-c', 'tz-d'] });
    const recorded = await recordedOf('tz-a');
    const chicago = (source: string) => [source, '2023-09-14T10:38:30.066000-05:00', instantIn(recorded, 'America/Chicago'), 'America/Chicago', 'show-main-screen'];
    expectTsv(archive.get('webmunk-extension-action.txt'), [
      HEADERS.action,
      ['tz-a', '2023-09-14T21:08:30.066000+05:30', instantIn(recorded, 'Asia/Kolkata'), 'Asia/Kolkata', 'show-main-screen'],
      chicago('tz-b'),
      chicago('tz-c'),
      chicago('tz-d'),
    ]);
  });

  it('removes every line break from Element HTML (joined), then quotes minimally; other cells keep theirs', async () => {
    const source = 'breaks-1';
    const html = 'a\tb"c\r\nd\ne\rf\u2028g\u2029h\vi\fj\x1ck\x1dl\x1em\x85n\n';
    const p = point(1, source, undefined, (q) => Object.assign(q, {
      'element-content*': html, 'url*': 'https://example.com/a\tb"c', 'page-title*': 'Say "hi"\nthere', 'class-name': "it's",
    }));
    await uploadPoints(server, [p]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-class-added'], sources: [source] });
    const entry = archive.get('webmunk-extension-class-added.txt');
    expectTsv(entry, [
      HEADERS.classAdded,
      [source, '2023-09-14T11:43:09.511000-04:00', instantIn(await recordedOf(source), NY), NY, TAB, PAGE, 'https://example.com/a\tb"c', 'Say "hi"\nthere', "it's", 'a\tb"cdefghijklmn'],
    ]);
    expect(entry!.data.toString()).toMatch(/\t"https:\/\/example\.com\/a\tb""c"\t"Say ""hi""\nthere"\tit's\t"a\tb""cdefghijklmn"\r\n$/);
  });

  it('long texts, kept as the bytes PostgreSQL sent, are written as their strings: every line break removed from HTML, quotes doubled, ciphertext opened', async () => {
    const LA = 'America/Los_Angeles';
    const wide = 'w'.repeat(150);
    const breaks = ['\n', '\r\n', '\r', '\v', '\f', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029'];
    const htmlOf = (i: number, br: string) => `<div class="${wide}" id="${i}">a${br}b"c\td é 🎉</div>`;
    const url = `https://example.com/${wide}?q=a\tb"c`;
    const title = `Say "hi"\nthere ${wide}`;
    const plain = breaks.map((br, i) => point(2, `long-${String(i).padStart(2, '0')}`, undefined, (q) => Object.assign(q, { 'element-content*': htmlOf(i, br), 'url*': url, 'page-title*': title })));
    const secret = `<div>\n  secret ${wide}\r\n</div>`;
    const twin = `<div>twin ${wide}</div>`;
    const encrypted = point(2, 'long-enc', 1665412900, (q) => {
      meta(q).timezone = LA;
      meta(q)['generated-key'] = Buffer.from(CLIENT.publicKey).toString('base64');
      Object.assign(q, { 'url*': encrypt(url), 'url!': 'https://twin.example/', 'page-title*': encrypt(title), 'page-title!': 'Twin', 'element-content*': encrypt(secret), 'element-content!': twin });
    });
    await uploadPoints(server, [...plain, encrypted]);
    const sources = [...plain.map((p) => String(meta(p).source)), 'long-enc'];
    const withKey = await exportArchive(server, { types: ['webmunk-extension-element-show'], sources }, { serverSecretKey: SERVER_SECRET });
    const withoutKey = await exportArchive(server, { types: ['webmunk-extension-element-show'], sources });
    const rows = async (encryptedRow: [string, string, string]) => [
      HEADERS.show,
      ...(await Promise.all(plain.map(async (p, i) => {
        const source = String(meta(p).source);
        return [source, '2023-09-14T11:43:11.027000-04:00', instantIn(await recordedOf(source), NY), NY, TAB, PAGE, '1', 'webmunk-asin-item', '1236.5', '212', '302', '561.59375', url, title, `<div class="${wide}" id="${i}">ab"c\td é 🎉</div>`];
      }))),
      ['long-enc', '2022-10-10T07:41:40-07:00', instantIn(await recordedOf('long-enc'), LA), LA, TAB, PAGE, '1', 'webmunk-asin-item', '1236.5', '212', '302', '561.59375', ...encryptedRow],
    ];
    expectTsv(withKey.get('webmunk-extension-element-show.txt'), await rows([url, title, `<div>  secret ${wide}</div>`]));
    expectTsv(withoutKey.get('webmunk-extension-element-show.txt'), await rows(['https://twin.example/', 'Twin', twin]));
  });

  it('writes numbers as Python str(), booleans as True/False, null as an empty cell, dicts and lists as repr()', async () => {
    const source = 'num-1';
    const p = point(2, source, undefined, (q) => Object.assign(q, {
      'tab-id': true, 'page-id': null, 'element-class': false,
      offset: { top: 0.00001, left: -3 }, size: { width: 1e21, height: 2 ** 64 },
      'url*': null, 'page-title*': ['x', 1.5, { k: null }], 'element-content*': '<b>ok</b>',
    }));
    await uploadPoints(server, [p]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-element-show'], sources: [source] });
    expectTsv(archive.get('webmunk-extension-element-show.txt'), [
      HEADERS.show,
      [source, '2023-09-14T11:43:11.027000-04:00', instantIn(await recordedOf(source), NY), NY, 'True', '', '1', 'False',
        '1e-05', '-3', '1000000000000000000000', '18446744073709552000', '', "['x', 1.5, {'k': None}]", '<b>ok</b>'],
    ]);
    // Why 1e21 is an int: jsonb prints numbers without exponents, and the original's json read that text.
    const { rows } = await server.db.pool.query(`SELECT properties #>> '{size,width}' AS width, properties #>> '{offset,top}' AS top FROM data_points WHERE source = $1`, [source]);
    expect(rows).toEqual([{ width: '1000000000000000000000', top: '0.00001' }]);
  });

  it('orders by source (code point order, as Python sorted()) and newest first within a source', async () => {
    const times = [1694706010, 1694706030, 1694706020];
    const points = ['order-b', 'Order-A', 'order-a'].flatMap((source) => times.map((t) => point(0, source, t, (p) => { p.rule = `${source}@${t}`; })));
    await uploadPoints(server, points);
    const archive = await exportArchive(server, { types: ['webmunk-extension-matched-rule'], sources: ['order-b', 'order-a', 'Order-A'] });
    const rows = expectTsv(archive.get('webmunk-extension-matched-rule.txt'), [
      HEADERS.matchedRule,
      ...['Order-A', 'order-a', 'order-b'].flatMap((source) => [1694706030, 1694706020, 1694706010].map((t) => {
        const created = `2023-09-14T11:40:${String(t - 1694706000).padStart(2, '0')}-04:00`;
        return [source, created, () => undefined, NY, TAB, PAGE, `${source}@${t}`, '48', SEARCH_URL, TITLE];
      })),
    ]);
    expect(rows).toHaveLength(10);
  });

  it('exports only the requested sources', async () => {
    await uploadPoints(server, [point(5, 'only-1'), point(5, 'only-2')]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-scroll-position'], sources: ['only-2'] });
    const text = archive.get('webmunk-extension-scroll-position.txt')!.data.toString();
    expect(text).toContain('\r\nonly-2\t');
    expect(text).not.toContain('only-1');
  });

  describe('date windows: whole days in the server TIME_ZONE, both ends inclusive', () => {
    // America/Chicago is -05:00 in September 2023; the points' own zone (New York) plays no part.
    const instants: [string, number][] = [
      ['ny-midnight', 1694664000], // 2023-09-13 23:00 in Chicago
      ['before-start', 1694667599.999], // 2023-09-13 23:59:59.999
      ['at-start', 1694667600], // 2023-09-14 00:00
      ['end-of-14th', 1694753999.999], // 2023-09-14 23:59:59.999
      ['before-end', 1694840399.999], // 2023-09-15 23:59:59.999
      ['after-end', 1694840400], // 2023-09-16 00:00
    ];
    const source = 'window-1';
    const actions = async (window: { from?: string; to?: string }) => {
      const archive = await exportArchive(server, { types: ['webmunk-extension-action'], sources: [source], ...window });
      return archive.get('webmunk-extension-action.txt')!.data.toString().split('\r\n').slice(1, -1).map((line) => line.split('\t')[4]);
    };

    it('by created', async () => {
      await uploadPoints(server, instants.map(([action, t]) => point(7, source, t, (p) => { p.action = action; })));
      expect(await actions({})).toEqual(['after-end', 'before-end', 'end-of-14th', 'at-start', 'before-start', 'ny-midnight']);
      expect(await actions({ from: '2023-09-14', to: '2023-09-15' })).toEqual(['before-end', 'end-of-14th', 'at-start']);
      expect(await actions({ from: '2023-09-14' })).toEqual(['after-end', 'before-end', 'end-of-14th', 'at-start']);
      expect(await actions({ to: '2023-09-15' })).toEqual(['before-end', 'end-of-14th', 'at-start', 'before-start', 'ny-midnight']);
      expect(await actions({ from: '2023-09-14', to: '2023-09-14' })).toEqual(['end-of-14th', 'at-start']);
    });

    it("by recorded ('recorded' date type): filters and orders by the upload time", async () => {
      const recSource = 'window-rec';
      // created order p5 > p4 > p3 > p2 > p1; recorded order p3 > p5 > p1 > p4 > p2
      const recordedAt: [string, string][] = [
        ['p1', '2024-01-10T12:00:00Z'],
        ['p2', '2024-01-09T12:00:00Z'],
        ['p3', '2024-01-11T06:00:00Z'], // 2024-01-11 00:00 in Chicago (-06:00): just outside
        ['p4', '2024-01-10T06:00:00Z'], // 2024-01-10 00:00: just inside
        ['p5', '2024-01-11T05:59:59.999Z'], // 2024-01-10 23:59:59.999: just inside
      ];
      await uploadPoints(server, recordedAt.map(([action], i) => point(7, recSource, 1694706001 + i, (p) => { p.action = action; })));
      for (const [action, at] of recordedAt) {
        await server.db.pool.query(`UPDATE data_points SET recorded = $1 WHERE source = $2 AND properties->>'action' = $3`, [at, recSource, action]);
      }
      const exported = async (window: { from?: string; to?: string; dateType?: 'created' | 'recorded' }) =>
        (await exportArchive(server, { types: ['webmunk-extension-action'], sources: [recSource], ...window })).get('webmunk-extension-action.txt')!;
      const column = (entry: ZipEntry, n: number) => entry.data.toString().split('\r\n').slice(1, -1).map((line) => line.split('\t')[n]);
      expect(column(await exported({ dateType: 'recorded' }), 4)).toEqual(['p3', 'p5', 'p1', 'p4', 'p2']);
      expect(column(await exported({ dateType: 'created' }), 4)).toEqual(['p5', 'p4', 'p3', 'p2', 'p1']);
      const windowed = await exported({ dateType: 'recorded', from: '2024-01-10', to: '2024-01-10' });
      expect(column(windowed, 4)).toEqual(['p5', 'p1', 'p4']);
      // Date Recorded is that upload time in the point's zone (New York, -05:00 in January)
      expect(column(windowed, 2)).toEqual(['2024-01-11T00:59:59.999000-05:00', '2024-01-10T07:00:00-05:00', '2024-01-10T01:00:00-05:00']);
      // the created window ignores the recorded times
      expect(column(await exported({ dateType: 'created', from: '2024-01-10', to: '2024-01-10' }), 4)).toEqual([]);
    });
  });

  describe('`*` fields: cleartext, or ciphertext of the Apr 2022 – Feb 2023 clients (webmunk-clients.md §4)', () => {
    it('sample 12: decrypted with the server key, else its `!` twin', async () => {
      const source = '27160594';
      const p = point(12, source, undefined, (q) => Object.assign(q, { 'url!': 'https://twin.example/echo-dot', 'page-title!': 'Twin: Echo Dot' }));
      await uploadPoints(server, [p]);
      const rec = instantIn(await recordedOf(source), 'America/Los_Angeles');
      const row = (url: string, title: string) => [source, '2022-10-10T07:40:33.201000-07:00', rec, 'America/Los_Angeles', '1520934417', '',
        '.a-carousel-card:not(:has([data-video-url])):visible', '12', url, title];
      const withKey = await exportArchive(server, { types: ['webmunk-extension-matched-rule'], sources: [source] }, { serverSecretKey: SERVER_SECRET });
      expectTsv(withKey.get('webmunk-extension-matched-rule.txt'), [
        HEADERS.matchedRule,
        row('https://www.amazon.com/dp/B08L5TNJHG?ref_=Oct_DLandingS_D_5a0d2c84_60', 'Amazon.com: Echo Dot (4th Gen)'),
      ]);
      const withoutKey = await exportArchive(server, { types: ['webmunk-extension-matched-rule'], sources: [source] });
      expectTsv(withoutKey.get('webmunk-extension-matched-rule.txt'), [HEADERS.matchedRule, row('https://twin.example/echo-dot', 'Twin: Echo Dot')]);
      const wrongKey = await exportArchive(server, { types: ['webmunk-extension-matched-rule'], sources: [source] }, { serverSecretKey: new Uint8Array(32).fill(1) });
      expectTsv(wrongKey.get('webmunk-extension-matched-rule.txt'), [HEADERS.matchedRule, row('https://twin.example/echo-dot', 'Twin: Echo Dot')]);
    });

    it('element-show, click, visibility and nested log-elements matches of an encrypted point', async () => {
      const LA = 'America/Los_Angeles';
      const encrypted = (index: number, source: string) => point(index, source, 1665412900, (p) => {
        meta(p).timezone = LA;
        meta(p)['generated-key'] = Buffer.from(CLIENT.publicKey).toString('base64');
        Object.assign(p, {
          'url*': encrypt('https://secret.example/page?q=1'), 'url!': 'https://twin.example/page',
          'page-title*': encrypt('Secret "title"'), 'page-title!': 'Twin title',
          'element-content*': encrypt('<div>\n  secret\r\n</div>'), 'element-content!': '<div>twin</div>',
        });
      });
      const show = encrypted(2, 'enc-show');
      const click = encrypted(4, 'enc-click');
      const log = encrypted(6, 'enc-log');
      delete log['element-content*'];
      delete log['element-content!'];
      log['pattern-matches'] = {
        '.item': [{ 'element-content*': encrypt('<p>\nsecret item</p>'), 'element-content!': '<p>twin item</p>', offset: { top: 1, left: 2 }, size: { width: 3, height: 4 } }],
      };
      await uploadPoints(server, [show, click, log]);
      const types = ['webmunk-extension-element-show', 'webmunk-extension-element-click', 'webmunk-visibility-export', 'webmunk-extension-log-elements'];
      const sources = ['enc-show', 'enc-click', 'enc-log'];
      const withKey = await exportArchive(server, { types, sources }, { serverSecretKey: SERVER_SECRET });
      const withoutKey = await exportArchive(server, { types, sources });
      const created = '2022-10-10T07:41:40-07:00';
      const showRec = instantIn(await recordedOf('enc-show'), LA);
      const clickRec = instantIn(await recordedOf('enc-click'), LA);
      const logRec = instantIn(await recordedOf('enc-log'), LA);
      const showRow = (url: string, title: string, html: string) =>
        ['enc-show', created, showRec, LA, TAB, PAGE, '1', 'webmunk-asin-item', '1236.5', '212', '302', '561.59375', url, title, html];
      const clickRow = (url: string, title: string, html: string) =>
        ['enc-click', created, clickRec, LA, TAB, PAGE, 'webmunk-button', '1622', '227', '96', '29', url, title, html];
      const logRow = (url: string, title: string, html: string) =>
        ['enc-log', created, logRec, LA, TAB, PAGE, url, title, '.item', '1', '2', '3', '4', html];
      const secret = ['https://secret.example/page?q=1', 'Secret "title"', '<div>  secret</div>'] as const;
      const twin = ['https://twin.example/page', 'Twin title', '<div>twin</div>'] as const;

      expectTsv(withKey.get('webmunk-extension-element-show.txt'), [HEADERS.show, showRow(...secret)]);
      expectTsv(withoutKey.get('webmunk-extension-element-show.txt'), [HEADERS.show, showRow(...twin)]);
      // the combined export reads `!` first, key or not
      expectTsv(withKey.get('webmunk-visibility-export.txt'), [HEADERS.visibility, showRow(...twin)]);
      expectTsv(withoutKey.get('webmunk-visibility-export.txt'), [HEADERS.visibility, showRow(...twin)]);
      // click and log-elements read URL from `url*` only, as the original; a `*` value that does
      // not open is still never written as ciphertext: its twin stands in
      expectTsv(withKey.get('webmunk-extension-element-click.txt'), [HEADERS.click, clickRow(...secret)]);
      expectTsv(withoutKey.get('webmunk-extension-element-click.txt'), [HEADERS.click, clickRow(...twin)]);
      expectTsv(withKey.get('webmunk-extension-log-elements/enc-log.txt'), [HEADERS.logElements, logRow(secret[0], secret[1], '<p>secret item</p>')]);
      expectTsv(withoutKey.get('webmunk-extension-log-elements/enc-log.txt'), [HEADERS.logElements, logRow(twin[0], twin[1], '<p>twin item</p>')]);
    });

    it('a `!` twin means its `*` value was encrypted: without generated-key the twin is written, never the ciphertext', async () => {
      // A 2022 point whose metadata lost its generated-key (an edited copy, a client bug): the
      // `*` values cannot be opened, whatever the server key.
      const LA = 'America/Los_Angeles';
      const keyless = (index: number, source: string) => point(index, source, 1665412900, (p) => {
        meta(p).timezone = LA;
        Object.assign(p, {
          'url*': encrypt('https://secret.example/page?q=1'), 'url!': 'https://twin.example/page',
          'page-title*': encrypt('Secret title'), 'page-title!': 'Twin title',
          'element-content*': encrypt('<div>secret</div>'), 'element-content!': '<div>twin</div>',
        });
      });
      const show = keyless(2, 'keyless-show');
      const click = keyless(4, 'keyless-click');
      meta(click)['generated-key'] = 'bm90IGEga2V5'; // a generated-key that is not a key opens nothing either
      const log = keyless(6, 'keyless-log');
      delete log['element-content*'];
      delete log['element-content!'];
      log['pattern-matches'] = { '.item': [{ 'element-content*': encrypt('<p>secret item</p>'), 'element-content!': '<p>twin item</p>', offset: { top: 1, left: 2 }, size: { width: 3, height: 4 } }] };
      // a later client's cleartext `*` without a twin is written as it is
      const clear = point(2, 'keyless-show', 1665412901, (p) => { meta(p).timezone = LA; });
      await uploadPoints(server, [show, click, log, clear]);
      const types = ['webmunk-extension-element-show', 'webmunk-extension-element-click', 'webmunk-visibility-export', 'webmunk-extension-log-elements'];
      const sources = ['keyless-show', 'keyless-click', 'keyless-log'];
      for (const serverSecretKey of [SERVER_SECRET, undefined]) {
        const archive = await exportArchive(server, { types, sources }, { serverSecretKey });
        const showRows = expectTsv(archive.get('webmunk-extension-element-show.txt'), [HEADERS.show, ...[0, 1].map(() => VISIBILITY_HEADER.map(() => () => undefined))]);
        expect(showRows.slice(1).map((row) => row.slice(12))).toEqual([[SEARCH_URL, TITLE, ASIN_HTML], ['https://twin.example/page', 'Twin title', '<div>twin</div>']]);
        const visibility = expectTsv(archive.get('webmunk-visibility-export.txt'), [HEADERS.visibility, ...[0, 1].map(() => VISIBILITY_HEADER.map(() => () => undefined))]);
        expect(visibility.slice(1).map((row) => row.slice(12))).toEqual([[SEARCH_URL, TITLE, ASIN_HTML], ['https://twin.example/page', 'Twin title', '<div>twin</div>']]);
        const clickRows = expectTsv(archive.get('webmunk-extension-element-click.txt'), [HEADERS.click, HEADERS.click.map(() => () => undefined)]);
        expect(clickRows[1].slice(11)).toEqual(['https://twin.example/page', 'Twin title', '<div>twin</div>']);
        const logRows = expectTsv(archive.get('webmunk-extension-log-elements/keyless-log.txt'), [HEADERS.logElements, HEADERS.logElements.map(() => () => undefined)]);
        expect([logRows[1][6], logRows[1][7], logRows[1][13]]).toEqual(['https://twin.example/page', 'Twin title', '<p>twin item</p>']);
      }
    });
  });
});

describe('TSV exporters with the default TIME_ZONE (UTC)', () => {
  const server = useTestServer();
  const { recordedOf } = helpers(server);

  it('writes UTC as +00:00 for points without a zone, in the Webmunk and the generic layouts', async () => {
    const action = point(7, 'utc-1', undefined, (p) => { delete meta(p).timezone; });
    const visit = point(18, 'utc-1');
    await uploadPoints(server, [action, visit]);
    const archive = await exportArchive(server, { types: ['webmunk-extension-action', 'pdk-web-visit'], sources: ['utc-1'] });
    const recorded = await recordedOf('utc-1');
    expectTsv(archive.get('webmunk-extension-action.txt'), [
      HEADERS.action,
      ['utc-1', '2023-09-14T15:38:30.066000+00:00', instantIn(recorded, 'UTC'), 'UTC', 'show-main-screen'],
    ]);
    const rows = expectTsv(archive.get('pdk-web-visit.txt'), [
      HEADERS.generic,
      ['utc-1', meta(visit).generator as string, 'pdk-web-visit', '1553612034', '2019-03-26T14:53:54.171813+00:00', '', '',
        String(Math.floor(recorded / 1_000_000)), instantIn(recorded, 'UTC'), () => undefined],
    ]);
    expect(JSON.parse(rows[1][9])).toEqual({ ...visit, 'passive-data-metadata': { ...meta(visit), encrypted_transmission: false } });
  });
});
