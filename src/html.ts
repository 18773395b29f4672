/**
 * HTML for server-rendered pages (the dashboard, the participants' donation pages): an escaping
 * tagged template. Values interpolated with `html` are escaped unless they are themselves `html`
 * results (SafeHtml), so a participant-supplied string (user agent, point JSON, a file name) can
 * never inject markup.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const SPECIAL = /[&<>"']/;

export function escapeHtml(text: string): string {
  // Most values have nothing to escape: a test is cheaper than a replace with a callback.
  return SPECIAL.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]) : text;
}

type Interpolated = SafeHtml | string | number | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** html`<p>${text}</p>`: escapes every interpolated value that is not already SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Trusted markup (e.g. a generated SVG) as SafeHtml, without escaping. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
