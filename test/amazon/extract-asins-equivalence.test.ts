/**
 * The HTML fast path (src/amazon/scan-html.ts: the tokenizer only in windows around the places an
 * ASIN can be) finds exactly what the whole-text parse it replaced found (extract-asins-reference.ts,
 * the old code verbatim): the same ASINs in the same order and the same rejected count, on every
 * sample point, the harvest bench's points, crafted edge cases and seeded random markup.
 */
import { describe, expect, it } from 'vitest';
import { harvestMix, harvestPoint, searchPage } from '../../bench/harvest-points.ts';
import { ASIN_TYPES, extractAsins, type FoundAsins } from '../../src/amazon/extract-asins.ts';
import { SAMPLES, samples, type Point } from '../helpers/samples.ts';
import { extractAsinsReference } from './extract-asins-reference.ts';

const SERVER_SECRET = new Uint8Array(Buffer.from('r6Wq0p4Yk3f1c8G2bVxTzQm9JHs5uEaLdN7oKiW3tPA=', 'base64'));
const generatorOf = (point: Point) => String(point['passive-data-metadata']?.['generator-id'] ?? point.generatorId);
const shape = (found: FoundAsins) => ({ asins: [...found.asins], rejected: found.rejected });

function expectSame(generatorId: string, properties: Record<string, unknown>, secret?: Uint8Array): FoundAsins {
  const fast = extractAsins(generatorId, properties, secret);
  expect(shape(fast)).toEqual(shape(extractAsinsReference(generatorId, properties, secret)));
  return fast;
}

/** The HTML as an element-show point's element-content*, compared; returns what was found. */
const sameOnHtml = (html: string) => expectSame('webmunk-extension-element-show', { 'element-content*': html });

describe('the HTML fast path finds what the whole-text parse found', () => {
  it('on every sample point, under every page-bearing generator id', () => {
    let found = 0;
    SAMPLES.forEach((_, index) => {
      const [point] = samples(index);
      found += expectSame(generatorOf(point), point, SERVER_SECRET).asins.size;
      for (const type of ASIN_TYPES) expectSame(type, point);
    });
    expect(found).toBeGreaterThanOrEqual(6);
  });

  it('on the harvest bench\'s points, the 30 KB results page included', () => {
    for (const [template] of harvestMix()) {
      for (const page of [0, 1, 0xabcdef]) expectSame(String(template.generatorId), harvestPoint(template, page));
    }
    const page = searchPage().replaceAll('ASINXXXX', 'B0PAGE00');
    expect(sameOnHtml(page).asins.size).toBe(24);
  });

  it.each([
    ['an anchor at the very start', 'data-asin="B0START0001"><div data-asin="B0START0002">'],
    ['a tag at the very start', '<div data-asin="B0START0003">x'],
    ['an anchor at the very end', '<div data-asin="B0END00001"></div><a href="/dp/B0END00002"'],
    ['a cut attribute at the end', '<div data-asin="B0END00003"><div data-asin="B0END0'],
    ['a cut anchor at the end', '<a href="/dp/B0END00004">x</a>as'],
    ['odd whitespace around = and between attributes', '<div\n\tdata-asin\n=\n"B0SPACE001"\r\n></div><a\fhref =  \'/dp/B0SPACE002\'>x</a><div data-asin=B0SPACE003 class=x>'],
    ['uppercase tags and attributes', '<DIV DATA-ASIN="B0UPPER001"></DIV><A HREF="/DP/B0UPPER002">x</A><Input Name="Asin" Value="B0UPPER003"><LINK REL=canonical HREF="https://www.amazon.com/gp/product/B0UPPER004">'],
    ['entities in values and names', '<div data-asin="B0&#69;NTITY1"></div><a href="&#47;d&#112;&#47;B0ENTITY2">x</a><input name="&#65;SIN" value="B0ENT&#x49;TY3"><a href="/dp/B0ENTITY4?a=1&amp;b=2">y</a>'],
    ['entities without the /dp/ letters elsewhere', '<p>asin list</p><a href="&#x2F;&#x64;&#x70;&#x2F;B0ENTITY5">x</a>'],
    ['ASIN inputs in either order', '<form><input value="B0INPUT002" type="hidden" name="ASIN"><input name="asin" value="B0INPUT003"/><input name=ASIN value=B0INPUT004><input name="ASIN.1" value="B0NOTASIN1"></form>'],
    ['URLs with query strings and fragments', '<a href="https://www.amazon.com/dp/B0QUERY001?ref_=x&amp;th=1#reviews">a</a><a href="/gp/aw/d/B0QUERY002/?x=/dp/B0NOTTHIS1">b</a><a href="/s?k=dp&amp;i=aps">c</a>'],
    ['JSON and HTML strings inside scripts', '<script type="application/json">{"asin":"B0SCRIPT01","url":"/dp/B0SCRIPT02"}</script><script>var t = \'<div data-asin="B0SCRIPT03"><a href="/dp/B0SCRIPT04">\'; if (a<b) {}</script><div data-asin="B0AFTER001">'],
    ['a script opener with an ASIN attribute', '<script data-asin="B0SCRATTR1">document.write(\'<a href="/dp/B0SCRIPT05">\')</script>'],
    ['comments, CDATA, doctype and bogus comments', '<!DOCTYPE html><!-- <a href="/dp/B0COMMENT1"> --><![CDATA[<div data-asin="B0CDATA001">]]><? <a href="/dp/B0BOGUS001"> ?><!x data-asin="B0DECL0001"><div data-asin="B0VISIBLE1">'],
    ['raw-text elements', '<title>/dp/B0TITLE001 <a href="/dp/B0TITLE002"></title><style>a[data-asin="B0STYLE001"]{}</style><textarea><div data-asin="B0TEXTAR01"></textarea><iframe><a href="/dp/B0IFRAME01"></iframe><xmp><a href="/dp/B0XMP00001"></xmp><noembed><a href="/dp/B0NOEMBED1"></noembed><noframes><a href="/dp/B0NOFRAME1"></noframes><div data-asin="B0AFTER002">'],
    ['tags that only start like raw-text ones', '<scripts data-asin="B0SCRIPTS1"><a href="/dp/B0SCRIPTS2"></scripts><titles><div data-asin="B0TITLES01">'],
    ['plaintext to the end', '<div data-asin="B0BEFORE01"><plaintext><div data-asin="B0PLAIN001">'],
    ['an unclosed comment and an unclosed script', '<div data-asin="B0BEFORE02"><!-- <a href="/dp/B0UNCLOSE1">'],
    ['an unclosed script', '<div data-asin="B0BEFORE03"><script>x = "<a href=/dp/B0UNCLOSE2>"'],
    ['< and > inside quoted values', '<div title="a<b" data-asin="B0LTVALUE1"></div><a title=\'1 < 2\' href="/dp/B0LTVALUE2">x</a><div title="x>y" data-asin="B0GTVALUE1"><div data-x=\'<a href="/dp/B0INVALUE1">\'>'],
    ['quotes and apostrophes in text', '<p>Don\'t miss "this"</p><a href="/dp/B0QUOTE001">x</a><p>it\'s <b>5" tall</b> <div data-asin="B0QUOTE002"></p>'],
    ['anchors in text and in other attributes', '<p>see /dp/B0TEXT00001 and asin B0TEXT00002</p><img src="/dp/B0IMAGE001" alt="gp"><div class="asin-box" data-asinx="B0OTHER001">'],
    ['closing tags with attributes and a lone <', '</a href="/dp/B0CLOSE001"><p>1 < 2 <a href="/dp/B0LONELT01"> 3 <> 4</p>'],
    ['rejected candidates', '<div data-asin="B0X"></div><div data-asin=""></div><a href="/dp/B0BXYZ12345">x</a><div data-asin="B0X"></div><a href="/dp/">e</a><div data-csa-c-asin="  b0lower001 "></div>'],
    ['other ASIN attributes', '<div data-csa-c-asin="B0CSA00001" data-asin-id="B0QNA00001" data-defaultasin="B0DEF00001"></div><area href="/exec/obidos/ASIN/059035342X/"><link href="/gp/product/B0LINK0001">'],
    ['self-closing tags', '<a href="/dp/B0SELF0001"/><div data-asin="B0SELF0002"/><input name="ASIN" value="B0SELF0003"/>'],
  ])('on %s', (_, html) => {
    sameOnHtml(html);
  });

  it('on seeded random markup (2,000 documents of 1–40 fragments, cut at a random place)', () => {
    // Complete constructs only: a `<` inside a quoted value after a `>` in the same value, and a
    // tag swallowed by a closing tag's junk, are the documented differences (scan-html.ts).
    const fragments = [
      '<div data-asin="B0RANDOM01">', '<a href="/dp/B0RANDOM02/ref=x?k=1&amp;y=2">', '<a href="https://www.amazon.com/gp/product/B0RANDOM03">',
      '<input name="ASIN" value="B0RANDOM04">', '<INPUT NAME=asin VALUE=B0RANDOM05>', '<div data-asin="&#66;0RANDOM06">', '<a href="&#47;dp&#47;B0RANDOM07">',
      '<span data-csa-c-asin=\'B0RANDOM08\'>', '<a\nhref\n=\n"/dp/B0RANDOM09"\n>', '<div data-asin="bad">', '<a href="/dp/too-long-value">',
      '</div>', '</a>', '</span>', '<p>', '</p>', 'text ', 'don\'t ', '5" ', ' 1 < 2 ', ' a > b ', '&amp; ', '&#39;', 'asin ', '/dp/B0TEXT0001 ', 'gp ',
      '<!-- c -->', '<!-- <a href="/dp/B0HIDDEN01"> -->', '<script>var s = \'<a href="/dp/B0HIDDEN02">\'; if (a<b) x = "asin";</script>',
      '<style>.dp{}</style>', '<title>Amazon.com: dp</title>', '<textarea><div data-asin="B0HIDDEN03"></textarea>', '<![CDATA[ <a href="/dp/B0HIDDEN04"> ]]>',
      '<!DOCTYPE html>', '<?php asin ?>', '<div title="a<b">', '<div title=\'x>y\'>', '<img alt="B0" src="/gp/x.png"/>', '<br/>', '<scriptx data-asin="B0RANDOM10">',
      '<link rel="canonical" href="https://www.amazon.de/dp/B0RANDOM11">', '<area href="/gp/aw/d/B0RANDOM12">', '</b>', '<', '>', '"', '\'', '=',
    ];
    let seed = 22;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let found = 0;
    for (let doc = 0; doc < 2_000; doc++) {
      let html = '';
      const count = 1 + random(40);
      for (let i = 0; i < count; i++) html += fragments[random(fragments.length)];
      found += sameOnHtml(html.slice(0, html.length - random(Math.min(html.length, 30)))).asins.size;
    }
    expect(found).toBeGreaterThan(2_000);
  });
});
