/**
 * The enrollment server's `start?auto=<token>` links (ecosystem-api.md §2.8.1): standard base64 of
 * a NaCl secretbox (nonce ‖ MAC ‖ ciphertext) under PDK_EXTERNAL_CONTENT_SYMETRIC_KEY, whose clear
 * text is `<e-mail>:<identifier>:<sources, comma-separated>:<extras JSON>` (split into at most 4
 * parts, as the original's Python `split(':', 3)`; the Webmunk enrollment server puts the
 * identifier where the e-mail goes). Only whoever holds the key can make one: this, not a
 * participant identifier, is what opens a donation request (§4.4.3).
 */
import { openSecret } from '../crypto/secretbox.ts';

export interface AutoRequest {
  email: string;
  identifier: string;
  sources: string[];
  /** The extras JSON object; text that is not a JSON object is kept as `{ extras: text }`, as the original. */
  extras: Record<string, unknown>;
}

/** The longest token accepted: enrollment metadata is a few KB. */
const MAX_TOKEN_LENGTH = 64 * 1024;

/** The request a token carries, or undefined when it is not one made with `key`. */
export function readAutoToken(token: string, key: Uint8Array): AutoRequest | undefined {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(token.replace(/\s/g, ''))) return undefined;
  const plain = openSecret(Buffer.from(token.replace(/\s/g, ''), 'base64'), key);
  if (!plain) return undefined;
  const text = plain.toString('utf8');
  const parts: string[] = [];
  let rest = text;
  for (let i = 0; i < 3; i += 1) {
    const at = rest.indexOf(':');
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  if (parts.length < 3 || !parts[1]) return undefined;
  let extras: Record<string, unknown> = {};
  if (parts.length === 4) {
    try {
      const parsed: unknown = JSON.parse(parts[3]);
      extras = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { extras: parts[3] };
    } catch {
      extras = { extras: parts[3] };
    }
  }
  return { email: parts[0], identifier: parts[1], sources: parts[2].split(',').map((s) => s.trim()).filter(Boolean), extras };
}
