/**
 * The ChatGPT data export (OpenAI: Settings → Data controls → Export data): a ZIP whose
 * `conversations.json` is a JSON array of conversations (ecosystem-api.md §3, ED
 * `importers/chatgpt.py`). Reads that one entry, inflated as a stream under the size limit, and
 * its conversations one at a time (payload/array-elements.ts), so memory holds the donated file,
 * one conversation and the points made so far, never the whole text or its parse. Every other
 * entry (chat.html, user.json, pictures) is ignored unread. Makes a `pdk-external-chatgpt-message`
 * point per text message and `pdk-external-engagement-chatgpt` points (chatgpt-conversation.ts);
 * one review row per conversation: its date, title and number of messages.
 */
import { constants as bufferLimits } from 'node:buffer';
import { sealedBoxTo } from '../../crypto/sealed-box.ts';
import { arrayElements } from '../../payload/array-elements.ts';
import { PayloadError } from '../../payload/bundle-codec.ts';
import type { ScanLimits } from '../../payload/json-scan.ts';
import { DonationFileError, type DonationImporter, type Extraction, type ImportContext, type ReviewRow } from '../importer-contract.ts';
import { zipEntryChunks, type WantedEntry } from '../zip-entry.ts';
import { conversationRow, type SealText, type Skipped } from './chatgpt-conversation.ts';

const FILE = 'conversations.json';

/**
 * `conversations.json` at the top of the ZIP, as OpenAI writes it, or in one folder (an export
 * unpacked and zipped again); never macOS's `__MACOSX/` copies. Matched as text, never opened as a path.
 */
const CONVERSATIONS: WantedEntry = {
  label: FILE,
  matches: (name) => {
    const parts = name.split(/[/\\]/);
    if (parts.length > 2 || parts.at(-1) !== FILE) return false;
    // a folder with a plain name: not `..`, `.`, an absolute path (`/x`: an empty first part) or a drive (`C:`)
    return parts.length === 1 || (!['', '.', '..', '__MACOSX'].includes(parts[0]) && !parts[0].includes(':'));
  },
};

/**
 * One conversation is parsed at a time: these bound what one may cost (a real one is a few MB and
 * tens of thousands of values; JSON.parse takes about 50 bytes a value).
 */
const CONVERSATION_LIMITS: Omit<ScanLimits, 'maxElementBytes'> = { maxDepth: 64, maxElements: 1_000_000, maxElementValues: 4_000_000 };
const MAX_CONVERSATION_BYTES = Math.min(64 * 1024 * 1024, bufferLimits.MAX_STRING_LENGTH);

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The entry's chunks without a byte-order mark (a file saved again by a Windows editor). */
async function* withoutBom(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of chunks) {
    yield first && chunk.subarray(0, 3).equals(UTF8_BOM) ? chunk.subarray(3) : chunk;
    first = false;
  }
}

const NOT_CONVERSATIONS = `The ${FILE} in this file is not a ChatGPT conversation list. Please upload the export file exactly as you downloaded it from ChatGPT.`;

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function notes(skipped: Skipped, emptyConversations: number, notConversations: number): string[] {
  const notes: string[] = [];
  if (skipped.notText) notes.push(`${count(skipped.notText, 'message', 'messages')} without text (pictures alone, code, tool results) left out.`);
  if (skipped.noTime) notes.push(`${count(skipped.noTime, 'message', 'messages')} without a time left out.`);
  if (emptyConversations) notes.push(`${count(emptyConversations, 'conversation', 'conversations')} without a text message left out.`);
  if (notConversations) notes.push(`${count(notConversations, 'entry', 'entries')} of ${FILE} that are not conversations left out.`);
  return notes;
}

async function extract(bytes: Buffer, context: ImportContext): Promise<Extraction> {
  const sealer = sealedBoxTo(context.contentPublicKey);
  const seal: SealText = (text) => Buffer.from(sealer(Buffer.from(text, 'utf8'))).toString('base64');
  const limits: ScanLimits = { ...CONVERSATION_LIMITS, maxElementBytes: Math.min(MAX_CONVERSATION_BYTES, context.maxExpandedBytes) };
  const rows: ReviewRow[] = [];
  const skipped: Skipped = { notText: 0, noTime: 0 };
  let index = 0;
  let emptyConversations = 0;
  let notConversations = 0;
  let rootIsArray = false;
  try {
    const chunks = withoutBom(zipEntryChunks(bytes, CONVERSATIONS, context.maxExpandedBytes));
    for await (const element of arrayElements(chunks, limits, (result) => (rootIsArray = result.rootIsArray))) {
      index += 1;
      const conversation: unknown = JSON.parse(element.toString('utf8'));
      if (typeof conversation !== 'object' || conversation === null || Array.isArray(conversation)) {
        notConversations += 1;
        continue;
      }
      const row = conversationRow(conversation as Record<string, unknown>, String(index), seal, context.timeZone, skipped);
      if (row) rows.push(row);
      else emptyConversations += 1;
    }
  } catch (error) {
    if (error instanceof DonationFileError) throw error;
    if (error instanceof PayloadError || error instanceof SyntaxError) throw new DonationFileError(NOT_CONVERSATIONS, `${FILE} (conversation ${index + 1}): ${error.message}`);
    throw error;
  }
  if (!rootIsArray) throw new DonationFileError(NOT_CONVERSATIONS, `${FILE} is a JSON object, not an array of conversations`);
  if (rows.length === 0) throw new DonationFileError(`The ${FILE} in this file has no conversation with a text message in it. If that is unexpected, please export your data from ChatGPT again.`, `${index} conversations, none with a text message`);
  return { rows, notes: notes(skipped, emptyConversations, notConversations) };
}

export const chatgptImporter: DonationImporter = {
  source: 'chatgpt',
  name: 'ChatGPT',
  fileKind: 'zip',
  reviewColumns: ['Date', 'Conversation', 'Messages'],
  extract: (file, context) => extract(file.bytes, context),
};
