/**
 * The TSV cell writer and the time formatting, against what the original's Python printed:
 * str() of the numbers json decoded from PostgreSQL jsonb, repr() of dicts and lists, csv.writer's
 * minimal quoting, datetime.isoformat() of pytz-converted instants (webmunk-server.md §5.2).
 */
import { describe, expect, it } from 'vitest';
import { cellText, pythonNumber, pythonRepr, tsvLine } from '../../src/exports/tsv.ts';
import { dayInZone, isKnownZone, isoInZone } from '../../src/exports/zoned-time.ts';

/** Microseconds since the epoch of a UTC wall time (month 1-based), plus extra microseconds. */
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, micros = 0) => Date.UTC(y, mo - 1, d, h, mi, s) * 1000 + micros;

describe('pythonNumber (Python str() of a number decoded from jsonb)', () => {
  it('prints ints without a fraction and floats in their shortest form', () => {
    expect(pythonNumber(212)).toBe('212');
    expect(pythonNumber(0)).toBe('0');
    expect(pythonNumber(-7)).toBe('-7');
    expect(pythonNumber(1843211302)).toBe('1843211302');
    expect(pythonNumber(1236.5)).toBe('1236.5');
    expect(pythonNumber(561.59375)).toBe('561.59375');
    expect(pythonNumber(-0.5)).toBe('-0.5');
    expect(pythonNumber(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(pythonNumber(1 / 3)).toBe('0.3333333333333333');
    expect(pythonNumber(1694706191.027)).toBe('1694706191.027');
  });

  it('switches to exponent form below 1e-4, with two exponent digits at least', () => {
    expect(pythonNumber(0.0001)).toBe('0.0001');
    expect(pythonNumber(0.00012)).toBe('0.00012');
    expect(pythonNumber(0.00001)).toBe('1e-05');
    expect(pythonNumber(0.000015)).toBe('1.5e-05');
    expect(pythonNumber(-2.5e-7)).toBe('-2.5e-07');
    expect(pythonNumber(1e-100)).toBe('1e-100');
    expect(pythonNumber(5e-324)).toBe('5e-324');
  });

  it('prints integral values as Python ints, in the digits the client sent', () => {
    // Python's str(1e16) is '1e+16', but JSON 10000000000000000 decodes to an int.
    expect(pythonNumber(1e16)).toBe('10000000000000000');
    expect(pythonNumber(2 ** 53)).toBe('9007199254740992');
    // JSON.stringify(2 ** 64) is 18446744073709552000: that is what jsonb kept and Python printed.
    expect(pythonNumber(2 ** 64)).toBe('18446744073709552000');
    expect(pythonNumber(12345678901234567000)).toBe('12345678901234567000');
    // JSON 1e+21 is stored by jsonb as numeric 1000000000000000000000, which Python reads as an int.
    expect(pythonNumber(1e21)).toBe('1000000000000000000000');
    expect(pythonNumber(-1.5e22)).toBe('-15000000000000000000000');
    expect(pythonNumber(1.5e300)).toBe(`15${'0'.repeat(299)}`);
  });

  it('prints the non-finite floats as Python does', () => {
    expect(pythonNumber(Number.NaN)).toBe('nan');
    expect(pythonNumber(Number.POSITIVE_INFINITY)).toBe('inf');
    expect(pythonNumber(Number.NEGATIVE_INFINITY)).toBe('-inf');
  });
});

describe('pythonRepr (Python repr() of a decoded JSON value)', () => {
  it('writes None, True, False and numbers as Python does', () => {
    expect(pythonRepr(null)).toBe('None');
    expect(pythonRepr(true)).toBe('True');
    expect(pythonRepr(false)).toBe('False');
    expect(pythonRepr(12)).toBe('12');
    expect(pythonRepr(0.00001)).toBe('1e-05');
  });

  it("quotes strings with ' unless only a ' is inside, and escapes like Python", () => {
    expect(pythonRepr('abc')).toBe("'abc'");
    expect(pythonRepr("it's")).toBe(`"it's"`);
    expect(pythonRepr('say "hi"')).toBe(`'say "hi"'`);
    expect(pythonRepr(`it's "x"`)).toBe(`'it\\'s "x"'`);
    expect(pythonRepr('a\\b')).toBe("'a\\\\b'");
    expect(pythonRepr('t\tn\nr\r')).toBe("'t\\tn\\nr\\r'");
    expect(pythonRepr('')).toBe("''");
  });

  it('escapes what Python does not print: controls as \\xNN, other unprintables as \\uNNNN', () => {
    expect(pythonRepr('\x00\x1b\x7f')).toBe("'\\x00\\x1b\\x7f'");
    expect(pythonRepr('\v\f')).toBe("'\\x0b\\x0c'");
    expect(pythonRepr('a\x85b\xa0c')).toBe("'a\\x85b\\xa0c'");
    expect(pythonRepr('\u2028\u2029\u200b\ufeff')).toBe("'\\u2028\\u2029\\u200b\\ufeff'");
    expect(pythonRepr('\ud800')).toBe("'\\ud800'");
    expect(pythonRepr('\u{e0001}')).toBe("'\\U000e0001'");
    // printable beyond ASCII stays as it is, and so does the plain space
    expect(pythonRepr('é ü 日本 😀')).toBe("'é ü 日本 😀'");
  });

  it('writes dicts and lists with their separators, nested', () => {
    expect(pythonRepr({})).toBe('{}');
    expect(pythonRepr([])).toBe('[]');
    expect(pythonRepr({ a: [1, 2.5, { b: null }], c: false, "d'": 'x' })).toBe(`{'a': [1, 2.5, {'b': None}], 'c': False, "d'": 'x'}`);
    expect(pythonRepr([[1e-5], ['a', true]])).toBe("[[1e-05], ['a', True]]");
  });
});

describe('cellText', () => {
  it('leaves strings alone and turns the rest into what csv.writer wrote', () => {
    expect(cellText('plain')).toBe('plain');
    expect(cellText('')).toBe('');
    expect(cellText(null)).toBe('');
    expect(cellText(undefined)).toBe('');
    expect(cellText(true)).toBe('True');
    expect(cellText(false)).toBe('False');
    expect(cellText(1236.5)).toBe('1236.5');
    expect(cellText(0.00001)).toBe('1e-05');
    expect(cellText(10n)).toBe('10');
    expect(cellText({ top: 1, left: 'x' })).toBe("{'top': 1, 'left': 'x'}");
    expect(cellText([1, null])).toBe('[1, None]');
  });
});

describe('tsvLine (csv.writer with a tab delimiter)', () => {
  it('joins cells with tabs and ends the row with CRLF', () => {
    expect(tsvLine(['a', 'b', 'c'])).toBe('a\tb\tc\r\n');
    expect(tsvLine([null, undefined, '', 0, false, 1.5])).toBe('\t\t\t0\tFalse\t1.5\r\n');
    expect(tsvLine([])).toBe('\r\n');
  });

  it('quotes only cells holding a tab, a quote, CR or LF, doubling the quotes', () => {
    expect(tsvLine(['has\ttab', 'x'])).toBe('"has\ttab"\tx\r\n');
    expect(tsvLine(['say "hi"'])).toBe('"say ""hi"""\r\n');
    expect(tsvLine(['"'])).toBe('""""\r\n');
    expect(tsvLine(['line\nbreak', 'cr\rhere', 'crlf\r\nhere'])).toBe('"line\nbreak"\t"cr\rhere"\t"crlf\r\nhere"\r\n');
    // other line separators, commas, apostrophes and spaces need no quotes
    expect(tsvLine(["it's", 'a,b', ' lead', 'a\u2028b', 'v\vf\f', 'n\x85e'])).toBe("it's\ta,b\t lead\ta\u2028b\tv\vf\f\tn\x85e\r\n");
  });

  it('quotes a dict cell by its repr', () => {
    expect(tsvLine([{ a: 'x"y' }, 1])).toBe(`"{'a': 'x""y'}"\t1\r\n`);
  });

  it('writes a row of a single empty cell as "" (csv.writer does, so it is not read as no row)', () => {
    expect(tsvLine([''])).toBe('""\r\n');
    expect(tsvLine([null])).toBe('""\r\n');
    expect(tsvLine(['', ''])).toBe('\t\r\n');
  });
});

describe('isoInZone (datetime.isoformat() of the instant in a zone)', () => {
  it('prints microseconds only when there are some, and UTC as +00:00', () => {
    expect(isoInZone(utc(2023, 9, 14, 15, 43, 11, 27_000), 'America/New_York')).toBe('2023-09-14T11:43:11.027000-04:00');
    expect(isoInZone(utc(2023, 9, 14, 15, 43, 11), 'UTC')).toBe('2023-09-14T15:43:11+00:00');
    expect(isoInZone(utc(2023, 9, 14, 15, 43, 11, 1), 'UTC')).toBe('2023-09-14T15:43:11.000001+00:00');
    expect(isoInZone(utc(2023, 9, 14, 15, 43, 11, 999_999), 'Etc/UTC')).toBe('2023-09-14T15:43:11.999999+00:00');
    expect(isoInZone(utc(2019, 3, 26, 14, 53, 54, 171_813), 'America/Chicago')).toBe('2019-03-26T09:53:54.171813-05:00');
  });

  it('follows the spring-forward transition (America/New_York, 2023-03-12)', () => {
    expect(isoInZone(utc(2023, 3, 12, 6, 59, 59, 999_999), 'America/New_York')).toBe('2023-03-12T01:59:59.999999-05:00');
    expect(isoInZone(utc(2023, 3, 12, 7, 0, 0), 'America/New_York')).toBe('2023-03-12T03:00:00-04:00');
  });

  it('follows the fall-back transition, printing the repeated hour with each offset (2023-11-05)', () => {
    expect(isoInZone(utc(2023, 11, 5, 5, 30, 0), 'America/New_York')).toBe('2023-11-05T01:30:00-04:00');
    expect(isoInZone(utc(2023, 11, 5, 5, 59, 59), 'America/New_York')).toBe('2023-11-05T01:59:59-04:00');
    expect(isoInZone(utc(2023, 11, 5, 6, 0, 0), 'America/New_York')).toBe('2023-11-05T01:00:00-05:00');
    expect(isoInZone(utc(2023, 11, 5, 6, 30, 0), 'America/New_York')).toBe('2023-11-05T01:30:00-05:00');
  });

  it('handles half- and quarter-hour zones, east and west, with and without DST', () => {
    expect(isoInZone(utc(2023, 9, 14, 15, 43, 11), 'Asia/Kolkata')).toBe('2023-09-14T21:13:11+05:30');
    expect(isoInZone(utc(2023, 9, 14, 15, 43, 11), 'Asia/Kathmandu')).toBe('2023-09-14T21:28:11+05:45');
    expect(isoInZone(utc(2023, 9, 14, 15, 43, 11), 'America/St_Johns')).toBe('2023-09-14T13:13:11-02:30');
    expect(isoInZone(utc(2023, 1, 15, 12, 0, 0), 'America/St_Johns')).toBe('2023-01-15T08:30:00-03:30');
    // Adelaide: 02:00 +09:30 becomes 03:00 +10:30 on 2023-10-01 (16:30 UTC the day before)
    expect(isoInZone(utc(2023, 9, 30, 16, 29, 59), 'Australia/Adelaide')).toBe('2023-10-01T01:59:59+09:30');
    expect(isoInZone(utc(2023, 9, 30, 16, 30, 0), 'Australia/Adelaide')).toBe('2023-10-01T03:00:00+10:30');
    // Lord Howe moves by half an hour only: 02:00 +10:30 becomes 02:30 +11:00
    expect(isoInZone(utc(2023, 9, 30, 15, 29, 59), 'Australia/Lord_Howe')).toBe('2023-10-01T01:59:59+10:30');
    expect(isoInZone(utc(2023, 9, 30, 15, 30, 0), 'Australia/Lord_Howe')).toBe('2023-10-01T02:30:00+11:00');
  });

  it('crosses the date line of the zone and handles instants before 1970', () => {
    expect(isoInZone(utc(2023, 9, 14, 4, 59, 59), 'America/Chicago')).toBe('2023-09-13T23:59:59-05:00');
    expect(isoInZone(utc(2023, 9, 14, 5, 0, 0), 'America/Chicago')).toBe('2023-09-14T00:00:00-05:00');
    expect(isoInZone(-1, 'UTC')).toBe('1969-12-31T23:59:59.999999+00:00');
    expect(isoInZone(utc(1969, 7, 20, 20, 17, 40), 'America/New_York')).toBe('1969-07-20T16:17:40-04:00');
  });

  it('gives the same answer for the same zone in summer and winter, in any call order (offset cache)', () => {
    const summer = utc(2024, 7, 1, 12, 7, 0);
    const winter = utc(2024, 1, 1, 12, 7, 0);
    expect(isoInZone(summer, 'Europe/Berlin')).toBe('2024-07-01T14:07:00+02:00');
    expect(isoInZone(winter, 'Europe/Berlin')).toBe('2024-01-01T13:07:00+01:00');
    expect(isoInZone(summer + 1, 'Europe/Berlin')).toBe('2024-07-01T14:07:00.000001+02:00');
  });

  it('dayInZone is the calendar day in the zone', () => {
    expect(dayInZone(utc(2023, 9, 14, 4, 30), 'America/Chicago')).toBe('2023-09-13');
    expect(dayInZone(utc(2023, 9, 14, 4, 30), 'UTC')).toBe('2023-09-14');
  });

  it('isKnownZone accepts IANA names and refuses anything else', () => {
    expect(isKnownZone('America/New_York')).toBe(true);
    expect(isKnownZone('Asia/Kolkata')).toBe(true);
    expect(isKnownZone('Mars/Olympus')).toBe(false);
    expect(isKnownZone('')).toBe(false);
    expect(isKnownZone(null)).toBe(false);
    expect(isKnownZone(5)).toBe(false);
  });
});
