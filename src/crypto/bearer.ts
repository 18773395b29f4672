/**
 * Bearer tokens (upload tokens, ASIN peer tokens, the federation request key), compared in
 * constant time: both sides are hashed first, so neither the content nor the length of a
 * configured token shows in the timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** True when `authorization` is `Bearer <t>` and `t` is one of `tokens`. */
export function hasBearerToken(authorization: string | undefined, tokens: readonly string[]): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  return match ? isOneOfTokens(match[1].trim(), tokens) : false;
}

/** True when `given` is one of `tokens` (a token sent some other way, e.g. in a form field). */
export function isOneOfTokens(given: string, tokens: readonly string[]): boolean {
  const givenDigest = digest(given);
  // every token is compared, so the position of the match does not show either
  return tokens.reduce((found, token) => timingSafeEqual(digest(token), givenDigest) || found, false);
}
