/**
 * Whether a file is CSV text, by its content: a participant may pick the wrong file, or rename
 * one (a ZIP, a spreadsheet, a screenshot) to .csv. Known formats are named for the staff; any
 * other binary content shows as control characters no text file has.
 */
import { DonationFileError } from '../importer-contract.ts';

const SIGNATURES: readonly (readonly [name: string, bytes: readonly number[]])[] = [
  ['a ZIP archive (or an .xlsx spreadsheet)', [0x50, 0x4b, 0x03, 0x04]],
  ['an empty ZIP archive', [0x50, 0x4b, 0x05, 0x06]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['a gzip file', [0x1f, 0x8b]],
  ['an old Excel or Word file', [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]],
  ['a 7-Zip archive', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['a RAR archive', [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07]],
];

/** Control characters other than tab, line feed and carriage return (form feed and vertical tab included). */
const CONTROL = /[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]/;

const NOT_CSV = 'This file is not a CSV report. Please upload the .csv file Amazon sent you (Order History Reports, report type "Items"), not a zip, spreadsheet or screenshot.';

/** Refuses a file that starts like a known binary format. */
export function refuseBinary(bytes: Buffer): void {
  for (const [name, signature] of SIGNATURES) {
    if (bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte)) throw new DonationFileError(NOT_CSV, `not CSV: the content is ${name}`);
  }
}

/** Refuses decoded text with control characters in it (binary content in any encoding). */
export function refuseControlCharacters(text: string): void {
  const found = CONTROL.exec(text);
  if (found) throw new DonationFileError(NOT_CSV, `not CSV: control character U+${found[0].charCodeAt(0).toString(16).padStart(4, '0')} at character ${found.index}`);
}
