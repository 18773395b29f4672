/** Dashboard form bodies: every field is an own field, whatever its name. */
import { describe, expect, it } from 'vitest';
import { parseForm } from '../../src/dashboard/dashboard.plugin.ts';

describe('parseForm', () => {
  it('keeps fields named after Object.prototype keys as fields, and changes no prototype', () => {
    const fields = parseForm(Buffer.from('__proto__=a&__proto__=b&constructor=c&toString=d&name=e&name=f'));
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(Object.entries(fields)).toEqual([['__proto__', ['a', 'b']], ['constructor', 'c'], ['toString', 'd'], ['name', ['e', 'f']]]);
  });
});
