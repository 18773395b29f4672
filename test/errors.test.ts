import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/errors.ts';

describe('error catalogue', () => {
  it('docs/errors.md lists exactly the codes of src/errors.ts, with their statuses', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(DCS_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    const catalogue = Object.entries(ERRORS).map(([code, { status }]) => [code, status]);
    expect(rows.sort()).toEqual(catalogue.sort());
  });
});
