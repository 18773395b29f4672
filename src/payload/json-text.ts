/**
 * Makes client JSON text storable as PostgreSQL jsonb, which refuses two things JavaScript allows:
 * the NUL character (`\u0000`; G2b status points carry it in storage names) and lone UTF-16
 * surrogates (`\ud800` without its pair). NULs are removed, as the original server did; lone
 * surrogates become U+FFFD. Both checks are a single `includes`/`test` on clean text.
 */

// An escape preceded by an even number of backslashes is a real escape, not literal text.
const ESCAPED_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;
const LONE_HIGH = /(?<!\\)((?:\\\\)*)\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})/g;
// A low surrogate is paired only if the high escape before it is itself a real escape (so `\\ud83d\ude00`,
// literal text then a lone low surrogate, is not a pair).
const LONE_LOW = /(?<!\\)((?:\\\\)*)(?<!(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/g;

export function toStorableJson(text: string): string {
  let result = text;
  if (result.includes('\0')) result = result.replaceAll('\0', '');
  if (result.includes('\\u0000')) result = result.replace(ESCAPED_NUL, '$1');
  // `includes` is a fast byte search; the regexes run only on the rare text that needs them.
  if (result.includes('\\ud') || result.includes('\\uD')) {
    result = result.replace(LONE_HIGH, '$1\\ufffd').replace(LONE_LOW, '$1\\ufffd');
  }
  return result;
}
