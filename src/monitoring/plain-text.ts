/**
 * Text an uploader chose (a source identifier, a user agent) in plain-text e-mail from the study's
 * own address: quoted and cut short, with every control, separator and invisible formatting
 * character written as an escape, so it can never start a line of its own (a newline in an
 * identifier), reorder what follows (bidi controls), or pass for the study's own words.
 */

// Controls (C0, DEL, C1), invisible format characters (bidi controls, zero-width), line and
// paragraph separators.
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeHidden(text: string): string {
  return text.replace(HIDDEN, (c) => SHORT_ESCAPES[c] ?? `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`);
}

function cut(text: string, maxLength: number): string {
  const characters = [...text];
  return characters.length <= maxLength ? text : `${characters.slice(0, maxLength).join('')}…`;
}

/** `text` in double quotes, at most `maxLength` characters of it, with `"`, `\` and hidden characters escaped. */
export function quoteText(text: string, maxLength: number): string {
  return `"${escapeHidden(cut(text, maxLength).replace(/[\\"]/g, (c) => `\\${c}`))}"`;
}

/** A message of ours that may carry quoted text: one line, at most `maxLength` characters. */
export function oneLine(text: string, maxLength: number): string {
  return escapeHidden(cut(text, maxLength));
}
