/**
 * API tokens as callers hold them: 64 characters of [A-Za-z0-9] from the system CSPRNG, as the
 * original's (the enrollment server keeps one in its settings), and the SHA-256 the database keeps.
 */
import { createHash, randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const TOKEN_LENGTH = 64;
/** How much of a token a list shows, so two tokens of one name can be told apart. */
export const TOKEN_PREFIX_LENGTH = 6;

export function generateToken(): string {
  let token = '';
  // randomInt draws without modulo bias
  for (let i = 0; i < TOKEN_LENGTH; i++) token += ALPHABET[randomInt(ALPHABET.length)];
  return token;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export type TokenScope = 'read' | 'read-write';
export const TOKEN_SCOPES: readonly TokenScope[] = ['read', 'read-write'];
