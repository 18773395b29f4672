/**
 * What a donation importer is (issue 20): one small file per donation source under
 * `donations/importers/`, turning the file a participant downloaded from a service (Amazon's order
 * history CSV, OpenAI's ChatGPT export ZIP) into rows the participant reviews, each with the data
 * points it becomes once confirmed. An importer never touches the database, the network or the
 * disk: it gets the file's bytes (already decrypted and size-checked by the donation flow) and
 * returns rows, or refuses the file with a message for the participant and a reason for the staff.
 * The flow stores confirmed rows' points as a bundle for the participant's source, so processing
 * deduplicates them like any upload (the same file donated twice stores each point once).
 */

export interface DonationFile {
  /** The file name as the participant's browser sent it (never used as a path). */
  name: string;
  bytes: Buffer;
}

export interface ImportContext {
  /** TIME_ZONE: Amazon's dates are days, set to 12:00 there (as the original). */
  timeZone: string;
  /** Server secret for keyed hashes (HMAC-SHA-256) of identifiers such as Amazon order ids. */
  hashKey: Uint8Array;
  /** Public key (NaCl box, 32 bytes) that sealed-box encrypts free text kept in points (ChatGPT messages). */
  contentPublicKey: Uint8Array;
  /** Largest accepted decompressed size of anything inside a ZIP, and of a CSV (bombs). */
  maxExpandedBytes: number;
}

/** One data point as the original's create_data_point made it; the flow adds passive-data-metadata. */
export interface DonationPoint {
  /** The generator id, e.g. `pdk-external-amazon-item`. */
  generatorId: string;
  /** The point's client time (metadata `timestamp` = its epoch seconds). */
  created: Date;
  /** The point's properties without passive-data-metadata. */
  properties: Record<string, unknown>;
}

/** What the participant reviews: a few short, harmless columns (no message texts, no addresses). */
export interface ReviewRow {
  /** Stable within the file (row number, message id): what a deselection names. */
  key: string;
  /** Column → text, the same columns on every row of one importer (see `reviewColumns`). */
  cells: Record<string, string>;
  /** The points this row becomes when confirmed (an item and its engagement event, a message…). */
  points: DonationPoint[];
}

export interface Extraction {
  rows: ReviewRow[];
  /** Participant-readable notes on what was left out (rows without a date, unknown columns...). */
  notes: string[];
}

/** A file that cannot be imported: what to tell the participant, and the staff's reason. */
export class DonationFileError extends Error {
  constructor(readonly participantMessage: string, readonly staffReason: string) {
    super(staffReason);
    this.name = 'DonationFileError';
  }
}

export interface DonationImporter {
  /** The donation source's identifier (the upload form field, ExternalDataSource.identifier): `amazon`, `chatgpt`. */
  source: string;
  /** Default name and instructions (staff can edit them). */
  name: string;
  /** Accepted file kinds, checked by content (magic bytes), not by name: 'csv' | 'zip'. */
  fileKind: 'csv' | 'zip';
  /** The review table's column headings, in order. */
  reviewColumns: readonly string[];
  /** Reads the file; throws DonationFileError for a file it refuses (never anything else on bad input). */
  extract(file: DonationFile, context: ImportContext): Promise<Extraction>;
}
