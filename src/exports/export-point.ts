/**
 * One data point as the exporters see it, with the reading rules every Webmunk exporter shares
 * (webmunk-server.md §5.2, webmunk-clients.md §4): the point's own time zone else the server's,
 * `*` fields decrypted with the server key when they are ciphertext else their `!` plaintext
 * twin, line breaks removed from HTML.
 */
import { decodeKey } from '../crypto/box.ts';
import { openField } from '../crypto/field-encryption.ts';
import { Utf8Text } from './utf8-text.ts';
import { isKnownZone } from './zoned-time.ts';

export interface StoredPoint {
  source: string;
  generatorId: string;
  generator: string;
  /** microseconds since 1970 (Unix time), as JavaScript counts; processing's are since 2000 */
  createdMicros: number;
  recordedMicros: number;
  properties: Record<string, unknown>;
}

/** Which of a sensitive field's forms an exporter reads first (the original differs by exporter). */
export type SensitiveOrder = 'encrypted-first' | 'plain-first' | 'encrypted-only';

/**
 * Python's str.splitlines() boundaries: the original joined the lines of Element HTML. (CR LF is
 * one boundary there; removing CR and LF one by one removes it alike, and a character class
 * scans faster than an alternation.)
 */
const LINE_BREAKS = /[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;

const LINE_BREAK_CHARACTERS = ['\n', '\r', '\v', '\f', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029'];
/** The same in UTF-8: single bytes, and the sequences of U+0085, U+2028 and U+2029. */
const LINE_BREAK_BYTES = LINE_BREAK_CHARACTERS.map((character) => Buffer.from(character, 'utf8')).map((bytes) => (bytes.length === 1 ? bytes[0] : bytes));

export function removeLineBreaks(value: unknown): unknown {
  if (value instanceof Utf8Text) return value.includesAny(LINE_BREAK_BYTES) ? removeLineBreaks(value.toString()) : value;
  if (typeof value !== 'string') return value;
  // most HTML has none: ten indexOf searches take a fifth of the regular expression's scan
  for (const character of LINE_BREAK_CHARACTERS) if (value.includes(character)) return value.replace(LINE_BREAKS, '');
  return value;
}

/** The two keys of a sensitive field: `url*` (maybe encrypted) and its `url!` twin. */
export interface SensitiveKeys {
  encrypted: string;
  plain: string;
}

export function sensitiveKeys(name: string): SensitiveKeys {
  return { encrypted: `${name}*`, plain: `${name}!` };
}

export class ExportPoint {
  readonly zone: string;
  private readonly metadata: Record<string, unknown>;

  constructor(readonly stored: StoredPoint, serverZone: string, private readonly serverSecretKey: Uint8Array | undefined) {
    const metadata = stored.properties['passive-data-metadata'];
    this.metadata = metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : {};
    // The original aborted the whole export on a missing metadata block or an unknown zone name.
    this.zone = isKnownZone(this.metadata.timezone) ? this.metadata.timezone : serverZone;
  }

  get source(): string { return this.stored.source; }
  get properties(): Record<string, unknown> { return this.stored.properties; }

  /** A top-level property, or a nested one by path. */
  get(...path: string[]): unknown {
    return dig(this.stored.properties, path);
  }

  /** The same, the path given as an array (no array made per call). */
  getPath(path: readonly string[]): unknown {
    return path.length === 1 ? this.stored.properties[path[0]] : dig(this.stored.properties, path);
  }

  /**
   * The value of a sensitive field (`url*`, with its twin `url!`) on `holder` (the point, or a
   * nested object such as a log-elements match). A `!` twin exists only beside a `*` value
   * its client encrypted (webmunk-clients.md §4), so where there is a twin the `*` value is opened
   * with the point's generated-key, and where it cannot be (no generated-key, no server key, a
   * wrong key) the twin is used: ciphertext is never written.
   */
  sensitive(keys: SensitiveKeys, order: SensitiveOrder, holder: Record<string, unknown> = this.stored.properties): unknown {
    let encrypted = holder[keys.encrypted];
    const plain = holder[keys.plain];
    const hasTwin = plain !== undefined && plain !== null;
    if (order === 'plain-first' && hasTwin) return plain;
    if (encrypted === undefined || encrypted === null) return order === 'encrypted-only' ? undefined : plain;
    const generatedKey = this.metadata['generated-key'];
    if (hasTwin && (typeof generatedKey !== 'string' || !decodeKey(generatedKey))) return plain;
    // ciphertext (base64) is opened as a string; a point without a generated-key keeps its bytes
    if (encrypted instanceof Utf8Text && generatedKey !== undefined) encrypted = encrypted.toString();
    const opened = openField(encrypted, generatedKey, this.serverSecretKey);
    if (opened.ok) return opened.value;
    return hasTwin ? plain : encrypted;
  }
}

export function dig(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
