import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { ASIN_TYPES, asinFromUrl, extractAsins, normalizeAsin } from '../../src/amazon/extract-asins.ts';
import { SAMPLES, samples, type Point } from '../helpers/samples.ts';

/** The invented test-vector keys of webmunk-clients.md §4 (sample 12). */
const SERVER_SECRET = new Uint8Array(Buffer.from('r6Wq0p4Yk3f1c8G2bVxTzQm9JHs5uEaLdN7oKiW3tPA=', 'base64'));
const SERVER_PUBLIC = Buffer.from('FhSSoR8r3z/7dgYbjzod66hpB/b0DjezRVssw44i4xQ=', 'base64');

const generatorOf = (point: Point) => String(point['passive-data-metadata']?.['generator-id'] ?? point.generatorId);
const asObject = (found: { asins: Map<string, boolean> }) => Object.fromEntries(found.asins);

/** An element-show point whose element-content* is `html`. */
const shown = (html: unknown, extra: Record<string, unknown> = {}) =>
  extractAsins('webmunk-extension-element-show', { 'url*': 'https://www.amazon.com/s?k=x', 'element-content*': html, ...extra });

/** What a G1a client does to a `*` value: base64(nonce ‖ box(JSON)), with a per-bundle key pair. */
function encryptField(value: unknown, clientSecret: Uint8Array): string {
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const sealed = nacl.box(Buffer.from(JSON.stringify(value)), nonce, SERVER_PUBLIC, clientSecret);
  return Buffer.concat([nonce, sealed]).toString('base64');
}

const TILE = (asin: string, i: number) =>
  `<div data-asin="${asin}" data-index="${i}" data-component-type="s-search-result" class="sg-col-4-of-24 s-result-item s-asin">` +
  `<div class="a-section"><span class="a-declarative"><a class="a-link-normal s-no-outline" href="/Some-Product-Name-${i}/dp/${asin}/ref=sr_1_${i}?keywords=usb+c&amp;qid=1694706189&amp;sr=8-${i}">` +
  `<img class="s-image" src="https://m.media-amazon.com/images/I/61abc.jpg" alt="Product ${i}"></a></span>` +
  `<h2><a class="a-link-normal a-text-normal" href="/Some-Product-Name-${i}/dp/${asin}/ref=sr_1_${i}"><span>Product &amp; more ${i}</span></a></h2>` +
  `<span class="a-price"><span class="a-offscreen">$15.99</span></span></div></div>`;

describe('normalizeAsin', () => {
  it('trims and upper-cases valid candidates', () => {
    expect(normalizeAsin('B0BXYZ1234')).toBe('B0BXYZ1234');
    expect(normalizeAsin('  b0bxyz1234\n')).toBe('B0BXYZ1234');
    expect(normalizeAsin('059035342X')).toBe('059035342X');
    expect(normalizeAsin('059035342x')).toBe('059035342X');
  });

  it('accepts ten digits as an ISBN-10 (no check-digit test: decided)', () => {
    expect(normalizeAsin('0590353403')).toBe('0590353403');
    expect(normalizeAsin('1234567890')).toBe('1234567890');
  });

  it('rejects wrong lengths, punctuation and non-ASCII', () => {
    for (const bad of ['', '   ', 'B0BXYZ123', 'B0BXYZ12345', 'B0BXYZ-234', 'B0BXYZ 234', 'B0BXYZ123"', 'ÄBCDEFGHIJ', 'B0BXYZ123ß', '"B0BXYZ12"']) {
      expect(normalizeAsin(bad), bad).toBeUndefined();
    }
    expect(normalizeAsin(42 as unknown as string)).toBeUndefined();
  });
});

describe('asinFromUrl', () => {
  it.each([
    ['https://www.amazon.com/dp/B0BXYZ1234', 'B0BXYZ1234'],
    ['https://www.amazon.com/dp/B0BXYZ1234/', 'B0BXYZ1234'],
    ['https://www.amazon.com/dp/B08L5TNJHG?ref_=Oct_DLandingS_D_5a0d2c84_60', 'B08L5TNJHG'],
    ['https://www.amazon.com/dp/B0BXYZ1234#customerReviews', 'B0BXYZ1234'],
    ['https://www.amazon.com/Anker-Charger/dp/B0BXYZ1234/ref=sr_1_3', 'B0BXYZ1234'],
    ['/Anker-Charger-Foldable-PowerPort-Compatible/dp/B0BXYZ1234/ref=sr_1_3', 'B0BXYZ1234'],
    ['dp/B0BXYZ1234', 'B0BXYZ1234'],
    ['/gp/product/B0BXYZ1234/ref=ppx_yo_dt_b_asin_title_o00_s00?ie=UTF8&psc=1', 'B0BXYZ1234'],
    ['https://www.amazon.com/gp/aw/d/B0BXYZ1234/?th=1', 'B0BXYZ1234'],
    ['https://www.amazon.com/exec/obidos/ASIN/059035342X/ref=x', '059035342X'],
    ['https://smile.amazon.com/dp/b0bxyz1234', 'B0BXYZ1234'],
    ['https://amazon.co.uk/dp/B0BXYZ1234', 'B0BXYZ1234'],
    ['https://www.amazon.com.au/dp/B0BXYZ1234', 'B0BXYZ1234'],
    ['http://www.amazon.de/gp/product/B0BXYZ1234', 'B0BXYZ1234'],
    ['HTTPS://WWW.AMAZON.COM/DP/B0BXYZ1234', 'B0BXYZ1234'],
    ['  https://www.amazon.com/dp/B0BXYZ1234  ', 'B0BXYZ1234'],
    // Percent-encoded ASIN characters and slug.
    ['https://www.amazon.com/dp/B0BXYZ%31234', 'B0BXYZ1234'],
    ['/Echo%20Dot%204th/dp/B08L5TNJHG', 'B08L5TNJHG'],
    // Not before a later slash is required (the original's regex missed this one).
    ['/dp/B0BXYZ1234?ref=x/y', 'B0BXYZ1234'],
  ])('%s → %s', (url, asin) => {
    expect(asinFromUrl(url)).toBe(asin);
  });

  it.each([
    'https://www.ebay.com/dp/B0BXYZ1234',
    'https://amazon.com.evil.net/dp/B0BXYZ1234',
    'https://notamazon.com/dp/B0BXYZ1234',
    '//evil.example/dp/B0BXYZ1234',
    'https://a.co/d/B0BXYZ1234',
    'ftp://www.amazon.com/dp/B0BXYZ1234',
    'javascript:void(0)',
    'https://www.amazon.com/s?k=usb+c+charger&ref=dp_B0BXYZ1234',
    'https://www.amazon.com/gp/your-account/order-history/?orderFilter=year-2023',
    'https://www.amazon.com/?url=/dp/B0BXYZ1234',
    'https://www.amazon.com/dp/B0BXYZ12345',
    'https://www.amazon.com/dp/B0BXYZ123',
    '/dp/javascript:void',
    '/dp/',
    'http://[::1',
    '',
  ])('no ASIN in %s', (url) => {
    expect(asinFromUrl(url)).toBeUndefined();
  });

  it('returns undefined for non-strings', () => {
    expect(asinFromUrl(undefined as unknown as string)).toBeUndefined();
    expect(asinFromUrl({ href: '/dp/B0BXYZ1234' } as unknown as string)).toBeUndefined();
  });
});

describe('ASIN_TYPES', () => {
  it('lists the order types (the extension\'s and the donated order history\'s) and the page-bearing Webmunk types', () => {
    expect([...ASIN_TYPES].sort()).toEqual(
      [
        'pdk-external-amazon-item',
        'webmunk-amazon-order',
        'webmunk-extension-class-added',
        'webmunk-extension-element-click',
        'webmunk-extension-element-hide',
        'webmunk-extension-element-show',
        'webmunk-extension-log-elements',
        'webmunk-extension-matched-rule',
        'webmunk-extension-scroll-position',
      ].sort(),
    );
  });

  it('covers every webmunk sample that carries url*, element-content*, page-content* or pattern-matches', () => {
    const pageKeys = ['url*', 'element-content*', 'page-content*', 'pattern-matches'];
    const carrying = SAMPLES.filter((p) => generatorOf(p).startsWith('webmunk-extension') && pageKeys.some((k) => k in p)).map(generatorOf);
    expect(carrying.length).toBeGreaterThan(5);
    for (const id of carrying) expect(ASIN_TYPES).toContain(id);
  });
});

describe('extractAsins on the sample points', () => {
  const expected: Record<number, Record<string, boolean>> = {
    1: { B0BXYZ1234: false },
    2: { B0BXYZ1234: false },
    3: { B0BXYZ1234: false },
    6: { B0BXYZ1234: false },
    10: { B0BXYZ1234: true },
    12: { B08L5TNJHG: false },
  };

  it.each(SAMPLES.map((point, index) => [index, generatorOf(point)] as const))('sample %i (%s)', (index) => {
    const [point] = samples(index);
    const found = extractAsins(generatorOf(point), point, SERVER_SECRET);
    expect(asObject(found)).toEqual(expected[index] ?? {});
    expect(found.rejected).toBe(0);
  });

  it('sample 0 (matched-rule on a search page) and sample 4 (click, page without products) yield nothing', () => {
    const [s0, s4] = samples(0, 4);
    expect(extractAsins(generatorOf(s0), s0).asins.size).toBe(0);
    expect(extractAsins(generatorOf(s4), s4).asins.size).toBe(0);
  });

  it('sample 4 finds products in page-content* once the page has product tiles', () => {
    const [point] = samples(4);
    point['page-content*'] = String(point['page-content*']).replace('...', TILE('B0BXYZ1234', 1) + TILE('B07ZPKBL9V', 2));
    expect(asObject(extractAsins(generatorOf(point), point))).toEqual({ B0BXYZ1234: false, B07ZPKBL9V: false });
  });

  it('sample 12 decrypts url* with the server secret, without the url! twin', () => {
    const [point] = samples(12);
    delete point['url!'];
    expect(asObject(extractAsins(generatorOf(point), point, SERVER_SECRET))).toEqual({ B08L5TNJHG: false });
    // Without the key (or with the wrong one) and no twin: nothing, and the ciphertext is not a candidate.
    const none = extractAsins(generatorOf(point), point);
    expect(none.asins.size).toBe(0);
    expect(none.rejected).toBe(0);
    expect(extractAsins(generatorOf(point), point, nacl.randomBytes(32)).asins.size).toBe(0);
  });

  it('sample 12 without the key relies on the url! twin', () => {
    const [point] = samples(12);
    expect(asObject(extractAsins(generatorOf(point), point))).toEqual({ B08L5TNJHG: false });
    expect(asObject(extractAsins(generatorOf(point), point, nacl.randomBytes(32)))).toEqual({ B08L5TNJHG: false });
  });

  it('sample 12 scans both the decrypted url* and a different url! twin', () => {
    const [point] = samples(12);
    point['url!'] = 'https://www.amazon.com/dp/B0BXYZ1234';
    expect(asObject(extractAsins(generatorOf(point), point, SERVER_SECRET))).toEqual({ B08L5TNJHG: false, B0BXYZ1234: false });
    expect(asObject(extractAsins(generatorOf(point), point))).toEqual({ B0BXYZ1234: false });
  });

  it('decrypts encrypted element-content* inside pattern-matches (G1a log-elements)', () => {
    const client = nacl.box.keyPair();
    const html = TILE('B0ENCRYPT1', 1);
    const point = {
      'pattern-matches': { '[data-asin]': [{ 'element-content*': encryptField(html, client.secretKey), 'element-content!': '<div>twin</div>' }] },
      'url*': encryptField('https://www.amazon.com/s?k=x', client.secretKey),
      'passive-data-metadata': { 'generated-key': Buffer.from(client.publicKey).toString('base64') },
    };
    expect(asObject(extractAsins('webmunk-extension-log-elements', point, SERVER_SECRET))).toEqual({ B0ENCRYPT1: false });
    expect(extractAsins('webmunk-extension-log-elements', point).asins.size).toBe(0);
  });
});

describe('extractAsins on amazon orders', () => {
  it('takes items[].asin and items[].url as ordered, the point url as seen', () => {
    const found = extractAsins('webmunk-amazon-order', {
      url: 'https://www.amazon.com/dp/B0SEEN0001',
      items: [
        { asin: 'b0bxyz1234', url: '/gp/product/B0BXYZ1234/ref=ppx_yo_dt_b_asin_title_o00_s00?ie=UTF8&psc=1' },
        { asin: null, url: '/gp/product/B07ZPKBL9V/ref=ppx_yo_dt_b_asin_title_o01_s00?ie=UTF8&psc=1' },
        { asin: 'B08L5TNJHG' },
        { asin: 'B0X', url: 'https://www.ebay.com/dp/B0EBAY0001' },
        null,
        'B0STRING01',
        { asin: 1234567890 },
      ],
    });
    expect(asObject(found)).toEqual({ B0BXYZ1234: true, B07ZPKBL9V: true, B08L5TNJHG: true, B0SEEN0001: false });
    expect(found.rejected).toBe(1);
  });

  it('an ASIN both seen (point url) and ordered in the same point is ordered', () => {
    const found = extractAsins('webmunk-amazon-order', { url: 'https://www.amazon.com/dp/B0BXYZ1234', items: [{ asin: 'B0BXYZ1234' }] });
    expect(asObject(found)).toEqual({ B0BXYZ1234: true });
  });

  it('does not read page fields of an order point', () => {
    expect(extractAsins('webmunk-amazon-order', { 'element-content*': TILE('B0BXYZ1234', 1), items: 'none' }).asins.size).toBe(0);
  });
});

describe('extractAsins on page HTML', () => {
  it('reads data-asin and product links in nested markup, not text, scripts or comments', () => {
    const html =
      '<div class="s-main"><ul><li><div data-asin="B0BXYZ1234"><section><span><a href="/x/dp/B0LINK0001/ref=a">A</a></span></section></div></li>' +
      '<li><div><div><div><a href="https://www.amazon.com/gp/product/B0LINK0002"><img src="/dp/B0IMAGE001"></a></div></div></div></li></ul>' +
      '<span>see /dp/B0TEXT0001/ in text</span><script>location = "/dp/B0SCRIPT1/"; var s = \'<a href="/dp/B0SCRIPT2">\';</script>' +
      '<!-- <a href="/dp/B0COMMENT/"> data-asin="B0COMMENT2" --></div>';
    expect(asObject(shown(html))).toEqual({ B0BXYZ1234: false, B0LINK0001: false, B0LINK0002: false });
  });

  it('decodes entities in attributes', () => {
    const html =
      '<div data-asin="B0&#66;XYZ1234"></div><a href="/gp/product/B0&#x43;XYZ1234/ref=x?a=1&amp;b=2">c</a>' +
      '<a href="https://www.amazon.com/dp/B0DXYZ1234?tag=x&amp;th=1">d</a><a href="/dp/B0EXYZ1234&amp;x">e</a>';
    const found = shown(html);
    expect(asObject(found)).toEqual({ B0BXYZ1234: false, B0CXYZ1234: false, B0DXYZ1234: false });
    // `/dp/B0EXYZ1234&x` is one path segment with `&`: rejected, not cut down to an ASIN.
    expect(found.rejected).toBe(1);
  });

  it('reads <area>, <link rel=canonical>, the other ASIN attributes and <input name="ASIN">', () => {
    const html =
      '<link rel="canonical" href="https://www.amazon.com/Echo-Dot/dp/B08L5TNJHG"><link rel="stylesheet" href="/styles.css">' +
      '<map><area shape="rect" href="/gp/aw/d/B0AREA0001/"></map>' +
      '<div data-csa-c-asin="B0CSA00001" data-csa-c-type="widget"></div><div data-asin-id="B0QNA00001"></div>' +
      '<div data-defaultasin="B0DEF00001"></div><form><input type="hidden" name="ASIN" value="B0INPUT001"><input name="qty" value="B0NOTASIN1"></form>';
    expect(asObject(shown(html))).toEqual({
      B08L5TNJHG: false,
      B0AREA0001: false,
      B0CSA00001: false,
      B0QNA00001: false,
      B0DEF00001: false,
      B0INPUT001: false,
    });
  });

  it('handles relative and absolute links, mobile, /gp/product/, obidos, ISBN-10 and lower case', () => {
    const html =
      '<a href="/Anker/dp/B0BXYZ0001/">1</a><a href="https://www.amazon.com/dp/B0BXYZ0002">2</a>' +
      '<a href="https://smile.amazon.com/gp/aw/d/B0BXYZ0003?th=1">3</a><a href="/gp/product/B0BXYZ0004#x">4</a>' +
      '<a href="http://www.amazon.com/exec/obidos/ASIN/059035342X/">5</a><a href="/dp/b0bxyz1234">6</a><div data-asin="b0bxyz0007"></div>';
    expect([...shown(html).asins.keys()].sort()).toEqual(['059035342X', 'B0BXYZ0001', 'B0BXYZ0002', 'B0BXYZ0003', 'B0BXYZ0004', 'B0BXYZ0007', 'B0BXYZ1234']);
  });

  it('ignores links to other hosts', () => {
    const html =
      '<a href="https://www.ebay.com/dp/B0BXYZ0001">x</a><a href="//cdn.example/dp/B0BXYZ0002">x</a>' +
      '<a href="https://amazon.com.evil.net/dp/B0BXYZ0003">x</a><a href="https://a.co/d/B0BXYZ0004">x</a>';
    const found = shown(html);
    expect(found.asins.size).toBe(0);
    expect(found.rejected).toBe(0);
  });

  it('counts rejected candidates; empty data-asin is nothing', () => {
    const html =
      '<div data-asin="B0X"></div><div data-asin=""></div><div data-asin="   "></div><div data-csa-c-asin=""></div>' +
      '<a href="/dp/B0BXYZ12345">11</a><a href="/dp/javascript:void">js</a><a href="/dp/B0BXYZ-234">p</a>' +
      '<a href="/dp/">empty</a><div data-asin="B0X"></div><div data-asin="B0OK000001"></div>';
    const found = shown(html);
    expect(asObject(found)).toEqual({ B0OK000001: false });
    // B0X (twice, counted once), B0BXYZ12345, javascript:void, B0BXYZ-234.
    expect(found.rejected).toBe(4);
  });

  it('scans both twins, once when they are equal', () => {
    const twin = '<div data-asin="B0X"></div>' + TILE('B0BXYZ1234', 1);
    const equal = shown(twin, { 'element-content!': twin, 'url!': 'https://www.amazon.com/s?k=x' });
    expect(asObject(equal)).toEqual({ B0BXYZ1234: false });
    expect(equal.rejected).toBe(1);
    const different = shown(twin, { 'element-content!': TILE('B07ZPKBL9V', 2) });
    expect(asObject(different)).toEqual({ B0BXYZ1234: false, B07ZPKBL9V: false });
  });

  it('reads url*, url! and url, and page-content*/! of clicks', () => {
    expect(asObject(extractAsins('webmunk-extension-matched-rule', { 'url*': 'https://www.amazon.com/dp/B0URL00001' }))).toEqual({ B0URL00001: false });
    expect(asObject(extractAsins('webmunk-extension-scroll-position', { url: '/gp/product/B0URL00002' }))).toEqual({ B0URL00002: false });
    const click = extractAsins('webmunk-extension-element-click', {
      'url!': 'https://www.amazon.com/gp/aw/d/B0URL00003',
      'element-content!': '<span data-asin="B0ELEM0001"></span>',
      'page-content*': TILE('B0PAGE0001', 1),
      'page-content!': TILE('B0PAGE0002', 2),
    });
    expect(asObject(click)).toEqual({ B0URL00003: false, B0ELEM0001: false, B0PAGE0001: false, B0PAGE0002: false });
  });

  it('reads every match of every selector in log-elements', () => {
    const point = {
      'pattern-matches': {
        '[data-asin]': [{ 'element-content*': TILE('B0MATCH001', 1) }, { 'element-content!': TILE('B0MATCH002', 2) }, null, 'x', { offset: {} }],
        '#spc-orders': [],
        '.other': [{ 'element-content*': '<a href="/dp/B0MATCH003">x</a>' }],
        broken: 'not an array',
        nothing: null,
      },
    };
    expect(asObject(extractAsins('webmunk-extension-log-elements', point))).toEqual({ B0MATCH001: false, B0MATCH002: false, B0MATCH003: false });
  });

  it('skips HTML without asin, /dp/, /gp/ or obidos (documented shortcut: entity-encoded slashes are not looked for)', () => {
    expect(shown('<a href="&#47;dp&#47;B0BXYZ1234">x</a>').asins.size).toBe(0);
    // The same link with one literal marker elsewhere in the string is parsed and found.
    expect(asObject(shown('<a href="&#47;dp&#47;B0BXYZ1234">x</a><a href="/gp/help">h</a>'))).toEqual({ B0BXYZ1234: false });
  });

  it('survives broken HTML and keeps what came before the damage', () => {
    const html = '<div><a href="/dp/B0BROKEN01">x</div></span><p <<> <div data-asin="B0BROKEN02" <a href="/dp/B0BROK';
    expect(shown(html).asins.get('B0BROKEN01')).toBe(false);
    expect(() => shown('<<<<>>>"\'&#xFFFFFFFF;<a href="/dp/\u0000B0">')).not.toThrow();
    // The shared parser recovers for the next point.
    expect(asObject(shown(TILE('B0AFTER001', 1)))).toEqual({ B0AFTER001: false });
  });

  it('finds 500 product tiles in a 1 MB page-content*', () => {
    const asins = Array.from({ length: 500 }, (_, i) => `B0T${String(i).padStart(7, '0')}`);
    let page = '<head><title>Amazon.com : usb c charger</title><script>var x = 1;</script></head><body><div id="a-page">' + asins.map(TILE).join('\n');
    page += '<div class="filler">' + 'Lorem ipsum dolor sit amet. '.repeat(Math.max(0, Math.ceil((1_000_000 - page.length) / 28))) + '</div></div></body>';
    expect(page.length).toBeGreaterThanOrEqual(1_000_000);
    const found = extractAsins('webmunk-extension-element-click', { 'page-content*': page, 'page-content!': page });
    expect(found.asins.size).toBe(500);
    expect([...found.asins.keys()].sort()).toEqual(asins);
    expect([...found.asins.values()].every((ordered) => ordered === false)).toBe(true);
    expect(found.rejected).toBe(0);
  });
});

describe('extractAsins on a donated order history item', () => {
  it('finds the item\'s asin as ordered, validated as any other', () => {
    const found = (properties: Record<string, unknown>) => extractAsins('pdk-external-amazon-item', properties);
    expect(found({ item: 'USB-C Cable', asin: ' b07thhqmhm ', ordered: '2023-01-15' })).toEqual({ asins: new Map([['B07THHQMHM', true]]), rejected: 0 });
    expect(found({ item: 'Gift card', asin: 'GIFT' })).toEqual({ asins: new Map(), rejected: 1 });
    expect(found({ item: 'No ASIN column' })).toEqual({ asins: new Map(), rejected: 0 });
  });
});

describe('extractAsins on odd input', () => {
  it('never throws and finds nothing in values of the wrong shape', () => {
    const odd: unknown[] = [null, undefined, 5, 'x', [], [1, 2], { 'url*': 5 }, { 'url*': ['https://www.amazon.com/dp/B0BXYZ1234'] }];
    for (const properties of odd) {
      for (const type of ASIN_TYPES) {
        expect(() => extractAsins(type, properties as Record<string, unknown>, SERVER_SECRET)).not.toThrow();
        expect(extractAsins(type, properties as Record<string, unknown>).asins.size).toBe(0);
      }
    }
    const shapes = {
      'element-content*': { html: TILE('B0BXYZ1234', 1) },
      'page-content*': [TILE('B0BXYZ1234', 1)],
      'element-content!': 42,
      'pattern-matches': [[{ 'element-content*': TILE('B0BXYZ1234', 1) }]],
      'passive-data-metadata': 'not an object',
      url: null,
    };
    expect(extractAsins('webmunk-extension-log-elements', shapes).asins.size).toBe(0);
    expect(extractAsins('webmunk-amazon-order', { items: [{ asin: ['B0BXYZ1234'] }, { url: 7 }], url: {} }).asins.size).toBe(0);
  });

  it('ignores a generated-key that is not a key (fields read as clear text)', () => {
    const found = extractAsins('webmunk-extension-class-added', {
      'element-content*': TILE('B0BXYZ1234', 1),
      'passive-data-metadata': { 'generated-key': 'not base64 !!' },
    });
    expect(asObject(found)).toEqual({ B0BXYZ1234: false });
  });

  it('skips a * value that should be ciphertext but is not', () => {
    const client = nacl.box.keyPair();
    const found = extractAsins(
      'webmunk-extension-class-added',
      { 'element-content*': TILE('B0BXYZ1234', 1), 'passive-data-metadata': { 'generated-key': Buffer.from(client.publicKey).toString('base64') } },
      SERVER_SECRET,
    );
    expect(found.asins.size).toBe(0);
  });

  it('finds nothing for other generator ids, even with product pages', () => {
    const point = { 'url*': 'https://www.amazon.com/dp/B0BXYZ1234', 'element-content*': TILE('B0BXYZ1234', 1), items: [{ asin: 'B0BXYZ1234' }] };
    for (const type of ['pdk-system-status', 'browser-cookies', 'webmunk-amazon-order-count', '', 'WEBMUNK-AMAZON-ORDER']) {
      expect(extractAsins(type, point).asins.size).toBe(0);
    }
    expect(extractAsins(undefined as unknown as string, point).asins.size).toBe(0);
  });
});
