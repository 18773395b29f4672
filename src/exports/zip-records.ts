/**
 * The records of a ZIP file written as a stream (PKWARE APPNOTE 6.3): each entry's local header,
 * its DEFLATE data and a data descriptor (sizes and CRC are known only at its end), then the
 * central directory. ZIP64 wherever a size, an offset or the count needs it, as Info-ZIP, 7-Zip,
 * Windows and macOS read it: the local headers stay 32-bit (their sizes are in the descriptor),
 * a descriptor holds 64-bit sizes when an entry's sizes need them, and the central directory's
 * ZIP64 extra field holds the entry's real sizes and offset.
 */

/** What the central directory says of an entry (filled in as the entry is written). */
export interface ZipEntryRecord {
  /** the name, UTF-8 */
  name: Buffer;
  /** where its local header starts */
  offset: number;
  crc: number;
  /** bytes before and after compression */
  size: number;
  compressedSize: number;
}

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const END = 0x06054b50;
/** bit 3: sizes and CRC in the data descriptor; bit 11: the name is UTF-8 */
const FLAGS = (1 << 3) | (1 << 11);
const DEFLATE = 8;
const VERSION_DEFLATE = 20;
const VERSION_ZIP64 = 45;
/** made by: Unix (3), APPNOTE 6.3, so the external attributes are a Unix mode */
const MADE_BY = (3 << 8) | 63;
/** a regular file, rw-rw-r-- */
const FILE_MODE = 0o100664;
/** a 32-bit field holding this means "see the ZIP64 record" (0xfffffffe and below are sizes) */
const MAX_32 = 0xfffffffe;
const MAX_16 = 0xfffe;

/** MS-DOS date and time (local time, 2-second steps), as every ZIP reader shows them. */
export function dosDateTime(date: Date): { date: number; time: number } {
  return dosFields(date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds());
}

function dosFields(year: number, month: number, day: number, hours: number, minutes: number, seconds: number): { date: number; time: number } {
  const clamped = Math.min(Math.max(year, 1980), 2107);
  return { date: ((clamped - 1980) << 9) | (month << 5) | day, time: (hours << 11) | (minutes << 5) | (seconds >> 1) };
}

/** An entry's modification time as a ZIP holds it twice: the MS-DOS wall clock, and Unix seconds (UTC). */
export interface ZipTime {
  dos: { date: number; time: number };
  unixSeconds: number;
}

/** `date` on this machine's clock (TZ): for archives whose bytes need not be the same elsewhere. */
export function zipTime(date: Date): ZipTime {
  return { dos: dosDateTime(date), unixSeconds: Math.floor(date.getTime() / 1000) };
}

/**
 * A wall-clock time ("YYYY-MM-DDTHH:MM:SS", whole seconds) and the instant it is, given apart so
 * that the archive's bytes depend on neither this machine's TZ nor the hour it was written.
 */
export function zipTimeAt(wallClock: string, unixSeconds: number): ZipTime {
  const [year, month, day, hours, minutes, seconds] = wallClock.split(/[-T:]/).map(Number);
  return { dos: dosFields(year, month, day, hours, minutes, seconds), unixSeconds };
}

/** Whether the entry has the ZIP64 extra field (and so 64-bit sizes in its data descriptor). */
const needsZip64 = (entry: ZipEntryRecord) => entry.size > MAX_32 || entry.compressedSize > MAX_32 || entry.offset > MAX_32;

/** A name's length is a 16-bit field: a longer one would make a ZIP no reader can open. */
const MAX_NAME_BYTES = 0xffff;

export function localHeader(name: Buffer, modified: { date: number; time: number }): Buffer {
  if (name.length > MAX_NAME_BYTES) throw new RangeError(`a ZIP entry name is at most ${MAX_NAME_BYTES} bytes (this one: ${name.length})`);
  const header = Buffer.alloc(30 + name.length);
  header.writeUInt32LE(LOCAL_HEADER, 0);
  header.writeUInt16LE(VERSION_DEFLATE, 4);
  header.writeUInt16LE(FLAGS, 6);
  header.writeUInt16LE(DEFLATE, 8);
  header.writeUInt16LE(modified.time, 10);
  header.writeUInt16LE(modified.date, 12);
  // CRC and sizes (14-25) stay 0: they follow the data
  header.writeUInt16LE(name.length, 26);
  name.copy(header, 30);
  return header;
}

export function dataDescriptor(entry: ZipEntryRecord): Buffer {
  // an entry past 4 GiB in the file has the ZIP64 field too, so its sizes are 64-bit here as well
  const wide = needsZip64(entry);
  const descriptor = Buffer.alloc(wide ? 24 : 16);
  descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
  descriptor.writeUInt32LE(entry.crc, 4);
  if (wide) {
    descriptor.writeBigUInt64LE(BigInt(entry.compressedSize), 8);
    descriptor.writeBigUInt64LE(BigInt(entry.size), 16);
  } else {
    descriptor.writeUInt32LE(entry.compressedSize, 8);
    descriptor.writeUInt32LE(entry.size, 12);
  }
  return descriptor;
}

function centralHeader(entry: ZipEntryRecord, modified: { date: number; time: number }, mtimeSeconds: number): Buffer {
  const zip64 = needsZip64(entry);
  // extra fields: ZIP64 (all three values, as their 32-bit fields say so) and Info-ZIP's
  // extended timestamp (the modification time in UTC, which unzip shows)
  const extraLength = (zip64 ? 28 : 0) + 9;
  const record = Buffer.alloc(46 + entry.name.length + extraLength);
  record.writeUInt32LE(CENTRAL_HEADER, 0);
  record.writeUInt16LE(MADE_BY, 4);
  record.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFLATE, 6);
  record.writeUInt16LE(FLAGS, 8);
  record.writeUInt16LE(DEFLATE, 10);
  record.writeUInt16LE(modified.time, 12);
  record.writeUInt16LE(modified.date, 14);
  record.writeUInt32LE(entry.crc, 16);
  record.writeUInt32LE(zip64 ? 0xffffffff : entry.compressedSize, 20);
  record.writeUInt32LE(zip64 ? 0xffffffff : entry.size, 24);
  record.writeUInt16LE(entry.name.length, 28);
  record.writeUInt16LE(extraLength, 30);
  // comment length, disk number, internal attributes: 0
  record.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
  record.writeUInt32LE(zip64 ? 0xffffffff : entry.offset, 42);
  let at = 46 + entry.name.copy(record, 46);
  if (zip64) {
    at = record.writeUInt16LE(0x0001, at);
    at = record.writeUInt16LE(24, at);
    at = record.writeBigUInt64LE(BigInt(entry.size), at);
    at = record.writeBigUInt64LE(BigInt(entry.compressedSize), at);
    at = record.writeBigUInt64LE(BigInt(entry.offset), at);
  }
  at = record.writeUInt16LE(0x5455, at);
  at = record.writeUInt16LE(5, at);
  at = record.writeUInt8(1, at); // the modification time is there
  record.writeInt32LE(Math.max(-0x80000000, Math.min(0x7fffffff, mtimeSeconds)), at);
  return record;
}

/** The central directory and the end records, for a directory starting at `offset`. */
export function centralDirectory(entries: readonly ZipEntryRecord[], offset: number, modified: ZipTime): Buffer {
  const headers = entries.map((entry) => centralHeader(entry, modified.dos, modified.unixSeconds));
  const size = headers.reduce((sum, header) => sum + header.length, 0);
  const zip64 = entries.length > MAX_16 || size > MAX_32 || offset > MAX_32;
  const records: Buffer[] = [...headers];
  if (zip64) {
    const end64 = Buffer.alloc(56 + 20);
    end64.writeUInt32LE(ZIP64_END, 0);
    end64.writeBigUInt64LE(44n, 4); // the record's size after this field
    end64.writeUInt16LE(MADE_BY, 12);
    end64.writeUInt16LE(VERSION_ZIP64, 14);
    // this disk and the directory's disk: 0
    end64.writeBigUInt64LE(BigInt(entries.length), 24);
    end64.writeBigUInt64LE(BigInt(entries.length), 32);
    end64.writeBigUInt64LE(BigInt(size), 40);
    end64.writeBigUInt64LE(BigInt(offset), 48);
    end64.writeUInt32LE(ZIP64_LOCATOR, 56);
    end64.writeBigUInt64LE(BigInt(offset + size), 64); // where the ZIP64 end record is
    end64.writeUInt32LE(1, 72); // disks in all
    records.push(end64);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END, 0);
  // a field too small says "see the ZIP64 record" (0xffff...), the others keep their value
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 8);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 10);
  end.writeUInt32LE(Math.min(size, 0xffffffff), 12);
  end.writeUInt32LE(Math.min(offset, 0xffffffff), 16);
  records.push(end);
  return Buffer.concat(records);
}
