/**
 * One conversation of OpenAI's `conversations.json` → its review row and points, as PDK External
 * Data's `importers/chatgpt.py` made them (ecosystem-api.md §3). A conversation is
 * `{title, create_time, update_time, mapping: {<node id>: {message, parent, children}}, …}`; every
 * node whose message is text becomes a `pdk-external-chatgpt-message` point, the answers a
 * "regenerate" left on other branches of the mapping included (as the original). Texts and the
 * title are sealed; the participant reviews the title and the message count, never the texts.
 */
import type { DonationPoint, ReviewRow } from '../importer-contract.ts';
import { textMeasures } from '../text-measures.ts';

export const MESSAGE_TYPE = 'pdk-external-chatgpt-message';
export const ENGAGEMENT_TYPE = 'pdk-external-engagement-chatgpt';

/** Seals a text for the study's content key; base64 as the original stored it. */
export type SealText = (text: string) => string;

/** What was left out of a conversation, for the participant's notes. */
export interface Skipped {
  notText: number;
  noTime: number;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const seconds = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined);

/**
 * A message's text: a `text` message's string parts joined by line breaks as the original joined
 * them (empty leading parts dropped); of a `multimodal_text` message (text typed beside a picture),
 * its string parts, the pictures left out (the original skipped the whole message). Code, tool
 * output, browsing and reasoning records are not messages of a party: undefined.
 */
export function messageText(content: unknown): string | undefined {
  if (!isObject(content) || !Array.isArray(content.parts)) return undefined;
  const parts = content.parts.filter((part): part is string => typeof part === 'string');
  if (content.content_type === 'multimodal_text' ? parts.every((part) => part === '') : content.content_type !== 'text') return undefined;
  let text = '';
  for (const part of parts) text = text === '' ? part : `${text}\n${part}`;
  return text;
}

/**
 * User messages are the participant's outgoing engagement, system messages incoming; assistant
 * replies never count (as the original). The message's id keeps two messages of one second apart.
 */
function engagement(role: string, created: Date, messageId: string): DonationPoint[] {
  const direction = role === 'user' ? 'outgoing_engagement' : role === 'system' ? 'incoming_engagement' : undefined;
  return direction ? [{ generatorId: ENGAGEMENT_TYPE, created, properties: { type: 'message', duration: 0, [direction]: 1, message_id: messageId } }] : [];
}

/** The day in the study's zone, as the review shows it. */
function day(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

/**
 * The conversation's review row (undefined when it has no text message), its points in the
 * mapping's order, and what it left out (non-text messages, messages without a time).
 */
export function conversationRow(conversation: Json, key: string, seal: SealText, timeZone: string, skipped: Skipped): ReviewRow | undefined {
  const { mapping, title, ...rest } = conversation;
  // the conversation minus its mapping, and minus its title, which goes sealed (the original kept it here in clear)
  const metadata: Json = rest;
  const titleText = typeof title === 'string' ? title : '';
  let sealedTitle: string | undefined;
  const points: DonationPoint[] = [];
  let messages = 0;
  let first: Date | undefined;
  for (const [messageId, node] of Object.entries(isObject(mapping) ? mapping : {})) {
    const message = isObject(node) ? node.message : undefined;
    if (!isObject(message)) continue;
    const text = messageText(message.content);
    if (text === undefined) {
      skipped.notText += 1;
      continue;
    }
    const time = seconds(message.create_time);
    if (time === undefined) {
      skipped.noTime += 1;
      continue;
    }
    const created = new Date(time * 1000);
    const role = isObject(message.author) && typeof message.author.role === 'string' ? message.author.role : 'unknown';
    // one sealed title per conversation: its messages share conversation_metadata anyway
    sealedTitle ??= seal(titleText);
    points.push({
      generatorId: MESSAGE_TYPE,
      created,
      properties: {
        message_id: messageId,
        author: role,
        pdk_encrypted_conversation_title: sealedTitle,
        conversation_metadata: metadata,
        pdk_encrypted_content: seal(text),
        ...textMeasures('content', text),
      },
    }, ...engagement(role, created, messageId));
    messages += 1;
    if (!first || created < first) first = created;
  }
  if (messages === 0) return undefined;
  const started = seconds(conversation.create_time);
  return {
    key,
    cells: { Date: day(started ? new Date(started * 1000) : first!, timeZone), Conversation: titleText || '(untitled)', Messages: String(messages) },
    points,
  };
}
