/**
 * What PDK External Data's annotators kept in clear beside an encrypted text (ED `annotators/`):
 * `pdk_length_<field>` and `pdk_word_count_<field>`, so analysts can study message sizes without
 * decrypting anything.
 */

const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]+$/;

/** Characters as Python counts them (code points: an emoji is 1, not JavaScript's 2). */
export function textLength(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++, length++) if (text.codePointAt(i)! > 0xffff) i += 1;
  return length;
}

/**
 * Words: runs between any whitespace that are not only ASCII punctuation (the original removed
 * that punctuation first, so `don't` is one word and ` - ` none). The original split on spaces
 * alone, so a line break joined the words on either side, and an empty text counted one word.
 */
export function wordCount(text: string): number {
  let words = 0;
  for (const run of text.split(/\s+/u)) if (run !== '' && !ASCII_PUNCTUATION.test(run)) words += 1;
  return words;
}

/** The two annotations of `text` under `field`, as the original named them. */
export function textMeasures(field: string, text: string): Record<string, number> {
  return { [`pdk_length_${field}`]: textLength(text), [`pdk_word_count_${field}`]: wordCount(text) };
}
