/** docs/exports.md lists every exporter's file and columns in order, as the code declares them. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WEBMUNK_EXPORTERS } from '../../src/exports/columns/index.ts';
import { genericExporter } from '../../src/exports/columns/generic.ts';
import { asinDetailsExporter } from '../../src/exports/asin-details.ts';
import type { Column } from '../../src/exports/exporter.ts';

const docs = readFileSync(new URL('../../docs/exports.md', import.meta.url), 'utf8');

/** The column names of the table under `### <id>`. */
function documentedColumns(id: string): string[] {
  const start = docs.indexOf(`### ${id} `);
  expect(start, `docs/exports.md has a section for ${id}`).toBeGreaterThan(-1);
  // the table ends at the next heading of any level
  const section = docs.slice(start).split(/\n##+ /)[0];
  return section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Column') && !line.startsWith('| ---')).map((line) => line.split(' | ')[0].slice(2));
}

describe('docs/exports.md', () => {
  for (const exporter of [...WEBMUNK_EXPORTERS, asinDetailsExporter('UTC'), genericExporter('<data type>', '', 'UTC')]) {
    it(`documents ${exporter.id}'s columns in order`, () => {
      expect(documentedColumns(exporter.id)).toEqual((exporter.columns as readonly Column<unknown>[]).map((c) => c.header));
    });
  }
});
