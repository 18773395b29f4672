/** Entry names inside an archive, as the original built them (pdk-server.md §7.3–7.4). */

/** Django's slugify(): ASCII, lower case, word characters and hyphens only. */
export function slugify(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[^\x00-\x7f]/g, '')
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .replace(/[-\s]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
}

/**
 * Per-source file names within one folder of the archive: sources whose slugs collide get
 * `__1`, `__2`, … before slugging, as the original did, so no file overwrites another.
 */
export class SourceFileNames {
  private readonly used = new Set<string>();

  name(source: string): string {
    let candidate = slugify(source) || 'source';
    for (let n = 1; this.used.has(candidate); n++) candidate = slugify(`${source}__${n}`);
    this.used.add(candidate);
    return candidate;
  }
}

/** A raw-format entry: `<source>__<type>__<YYYY-MM-DD>.json` (pdk-server.md §7.3). */
export function rawEntryName(source: string, type: string, day: string): string {
  return `${source.replace(/[/\\]/g, '_')}__${type}__${day}.json`;
}
