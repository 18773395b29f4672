/**
 * One named file inside a donated ZIP, inflated as a stream of chunks and bounded (§4.4 item 7:
 * the original read ZIP members whole into memory, so a small ZIP could inflate to gigabytes).
 * Only the wanted entry is ever inflated; the others are skipped unread, and no entry's name is
 * used as a path (names are compared as bytes, `..` and absolute names included). The size limit
 * is checked against the size the ZIP declares and again on the bytes actually inflated, and the
 * CRC-32 at the end, so a lying header, a truncated file or damaged data is refused, never half-read.
 */
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { DonationFileError } from './importer-contract.ts';

/** Where the wanted entry is, and how an importer names it in its messages. */
export interface WantedEntry {
  /** e.g. `conversations.json` */
  label: string;
  /** Whether an entry name (as the ZIP stores it, `/` or `\` separated) is the wanted file. */
  matches(name: string): boolean;
}

const DAMAGED = 'The file could not be read: it is not a ZIP archive, or it is incomplete or damaged. Please download the export again and upload the .zip file as you received it.';

function openZip(bytes: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings: false: yauzl would refuse the whole archive for one `../x` name it never needs to open
    yauzl.fromBuffer(bytes, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) reject(new DonationFileError(DAMAGED, `not a readable ZIP: ${error?.message ?? 'no archive'}`));
      else resolve(zip);
    });
  });
}

/** Every entry whose name matches, read from the central directory (nothing is inflated). */
function findEntries(zip: yauzl.ZipFile, wanted: WantedEntry): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const found: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      // raw name bytes: UTF-8 or CP437, either way the ASCII names compared here read the same
      if (wanted.matches((entry.fileName as unknown as Buffer).toString('latin1'))) found.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(found));
    zip.on('error', (error: Error) => reject(new DonationFileError(DAMAGED, `ZIP central directory: ${error.message}`)));
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) reject(new DonationFileError(DAMAGED, `opening ${entry.fileName.toString()}: ${error?.message ?? 'no stream'}`));
      else resolve(stream);
    });
  });
}

/**
 * The wanted entry's inflated bytes, chunk by chunk. Throws DonationFileError when the archive
 * cannot be read, has no such entry or more than one, is encrypted or uses a method other than
 * stored/DEFLATE, inflates past `maxExpandedBytes`, or its data is damaged.
 */
export async function* zipEntryChunks(bytes: Buffer, wanted: WantedEntry, maxExpandedBytes: number): AsyncGenerator<Buffer> {
  const zip = await openZip(bytes);
  try {
    const entries = await findEntries(zip, wanted);
    if (entries.length === 0) throw new DonationFileError(`This ZIP file has no ${wanted.label} in it. Please upload the export file exactly as you downloaded it.`, `no ${wanted.label} in the ZIP`);
    if (entries.length > 1) throw new DonationFileError(`This ZIP file has more than one ${wanted.label} in it. Please upload the export file exactly as you downloaded it.`, `${entries.length} entries named ${wanted.label}`);
    const [entry] = entries;
    if (entry.isEncrypted()) throw new DonationFileError('This ZIP file is password-protected. Please upload the export without a password, as you downloaded it.', `${wanted.label} is encrypted`);
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) throw new DonationFileError(DAMAGED, `${wanted.label}: compression method ${entry.compressionMethod} (only stored and DEFLATE are read)`);
    const tooLarge = (size: string) => new DonationFileError(
      `The ${wanted.label} in this file is larger than this study accepts (${Math.floor(maxExpandedBytes / 1e6)} MB once unpacked). Please contact the study team.`,
      `${wanted.label}: ${size} bytes unpacked, over the limit of ${maxExpandedBytes}`,
    );
    if (entry.uncompressedSize > maxExpandedBytes) throw tooLarge(`declares ${entry.uncompressedSize}`);
    const stream = await openEntry(zip, entry);
    let inflated = 0;
    let crc = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        inflated += chunk.length;
        // counted as it inflates: the declared size is the sender's word
        if (inflated > maxExpandedBytes) throw tooLarge(`more than ${maxExpandedBytes}`);
        crc = zlib.crc32(chunk, crc);
        yield chunk;
      }
    } catch (error) {
      if (error instanceof DonationFileError) throw error;
      throw new DonationFileError(DAMAGED, `${wanted.label}: ${(error as Error).message}`);
    } finally {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
    }
    if (crc !== entry.crc32) throw new DonationFileError(DAMAGED, `${wanted.label}: CRC-32 ${crc.toString(16)} where the ZIP says ${entry.crc32.toString(16)}`);
  } finally {
    zip.close();
  }
}
