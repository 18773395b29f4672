/**
 * Entry names inside an archive. The original built them from the data type and the source
 * (pdk-server.md §7.3–7.4), and both are chosen by whoever uploads: a name a file system refuses
 * or that unzips outside its folder ("../x", "C:x"), a reserved one (CON), or two
 * that differ only in case (which overwrite each other when unzipped on macOS or Windows). Such
 * identifiers get a safe name unique in the archive, and README.txt lists the mapping; every
 * other name stays exactly as the original wrote it.
 */

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
 * The longest name part, in bytes: a raw entry joins a source and a type
 * (`<source>__<type>__<day>.json`), and file systems take 255 bytes per name.
 */
const MAX_PART_BYTES = 100;

/** Characters Windows refuses in names, path separators, and control and invisible characters. */
const REFUSED = /[<>:"/\\|?*\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;
/** Windows' device names, refused with any extension (con.txt too). */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

/** Whether `name` is a file name every file system takes as it is. */
export function isSafeName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= MAX_PART_BYTES && !REFUSED.test(name)
    // a leading dot hides the file (and makes "..", "."); Windows drops trailing dots and spaces
    && !/^[.\s]|[.\s]$/.test(name) && !RESERVED.test(name);
}

/** A name as a case-insensitive file system compares it (APFS and NTFS fold case, APFS normalisation). */
function folded(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase();
}

/** `base` cut so that `base + suffix` fits (slugs are ASCII, one byte a character). */
function fit(base: string, suffix: string): string {
  return base.slice(0, MAX_PART_BYTES - suffix.length) + suffix;
}

/** Where an identifier was given a name other than itself, for README.txt. */
export interface Renamed {
  kind: 'data type' | 'source';
  id: string;
  name: string;
}

/**
 * One set of names that must differ whatever the case: an identifier keeps its own name when it
 * is safe and free, else takes its slug, then `<slug>__1`, `__2`, … until one is.
 */
class NameSpace {
  private readonly taken = new Set<string>();
  private readonly names = new Map<string, string>();

  constructor(private readonly kind: Renamed['kind'], private readonly renamed: Renamed[], reserved: readonly string[] = []) {
    for (const name of reserved) this.taken.add(folded(name));
  }

  name(id: string): string {
    let name = this.names.get(id);
    if (name !== undefined) return name;
    const slug = slugify(id) || (this.kind === 'source' ? 'source' : 'type');
    name = isSafeName(id) ? id : fit(slug, '');
    for (let n = 1; this.taken.has(folded(name)) || !isSafeName(name); n++) name = fit(slug, `__${n}`);
    this.taken.add(folded(name));
    this.names.set(id, name);
    if (name !== id) this.renamed.push({ kind: this.kind, id, name });
    return name;
  }
}

/**
 * Per-source file names within one folder of the archive, as the original named them: the
 * source's slug, and for sources whose slugs collide `__1`, `__2`, … before slugging. A slug that
 * is a Windows device name or too long counts as taken as well.
 */
class SourceFileNames {
  private readonly used = new Set<string>();
  private readonly names = new Map<string, string>();

  constructor(private readonly renamed: Renamed[]) {}

  name(source: string): string {
    let name = this.names.get(source);
    if (name !== undefined) return name;
    const candidate = (n: number) => {
      const suffix = n === 0 ? '' : `__${n}`;
      const slug = slugify(`${source}${suffix}`);
      return slug.length <= MAX_PART_BYTES ? slug : fit(slugify(source), suffix);
    };
    name = candidate(0) || 'source';
    for (let n = 1; this.used.has(name) || !isSafeName(name); n++) name = candidate(n);
    this.used.add(name);
    this.names.set(source, name);
    if (name !== source) this.renamed.push({ kind: 'source', id: source, name });
    return name;
  }
}

/**
 * Every entry name of one archive. The data types the original knew are named first, so their
 * files keep their names whatever else is asked for beside them.
 */
export class ArchiveNames {
  /** identifiers named otherwise than themselves, in the order they were named */
  readonly renamed: Renamed[] = [];
  private readonly types: NameSpace;
  private readonly sources: NameSpace;
  private readonly folders = new Map<string, SourceFileNames>();
  private readonly rawEntries = new Set<string>();

  constructor(types: readonly string[], knownTypes: ReadonlySet<string>) {
    // README.txt is every archive's own
    this.types = new NameSpace('data type', this.renamed, ['README']);
    this.sources = new NameSpace('source', this.renamed);
    for (const type of types) if (knownTypes.has(type)) this.types.name(type);
    for (const type of types) this.types.name(type);
  }

  /** A type's name: its file is `<name>.txt` or `<name>.parquet`. */
  type(type: string): string {
    return this.types.name(type);
  }

  /** A per-source file: `<folder>/<source's slug>.txt`. */
  sourceFile(folder: string, source: string): string {
    let names = this.folders.get(folder);
    if (!names) this.folders.set(folder, (names = new SourceFileNames(this.renamed)));
    return `${folder}/${names.name(source)}.txt`;
  }

  /** A raw-format entry: `<source>__<type>__<YYYY-MM-DD>.json` (pdk-server.md §7.3). */
  rawEntry(source: string, type: string, day: string): string {
    const stem = `${this.sources.name(source)}__${this.types.name(type)}__${day}`;
    // "a__b" + "c" and "a" + "b__c" would meet: the later one is numbered
    let name = `${stem}.json`;
    for (let n = 1; this.rawEntries.has(folded(name)); n++) name = `${stem}__${n}.json`;
    this.rawEntries.add(folded(name));
    return name;
  }
}
