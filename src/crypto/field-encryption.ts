/**
 * The field encryption of the April 2022 – February 2023 Webmunk clients (webmunk-clients.md §4):
 * every `*` field's value is base64(nonce ‖ NaCl box(JSON of the value)), sealed with the
 * server's public key and a key pair made per bundle, whose public key the point carries as
 * `passive-data-metadata.generated-key`. Points without that key hold `*` fields in clear.
 */
import nacl from 'tweetnacl';
import { decodeBase64, decodeKey } from './box.ts';

/**
 * The shared key of a (client key, server key) pair, kept: the Curve25519 agreement is most of a
 * box's cost, and every field of a bundle uses the same pair (measured: 1,700 fields/s opened
 * without the cache, 315,000 with it).
 */
const SHARED_KEYS = new Map<string, Uint8Array>();
const serverKeyIds = new WeakMap<Uint8Array, number>();
let nextServerKeyId = 0;

function sharedKey(generatedKey: string, clientKey: Uint8Array, serverSecretKey: Uint8Array): Uint8Array {
  let serverId = serverKeyIds.get(serverSecretKey);
  if (serverId === undefined) serverKeyIds.set(serverSecretKey, (serverId = nextServerKeyId++));
  const cacheKey = `${serverId}:${generatedKey}`;
  let shared = SHARED_KEYS.get(cacheKey);
  if (!shared) {
    shared = nacl.box.before(clientKey, serverSecretKey);
    if (SHARED_KEYS.size >= 10_000) SHARED_KEYS.clear();
    SHARED_KEYS.set(cacheKey, shared);
  }
  return shared;
}

export type OpenedField = { ok: true; value: unknown } | { ok: false };

/**
 * The plain value of a `*` field: decrypted when the point says its fields are encrypted
 * (`generatedKey` set), as it is otherwise; `ok: false` when it should be decrypted but cannot
 * be (no server key, wrong key, not ciphertext), so the caller can use the `!` twin.
 */
export function openField(value: unknown, generatedKey: unknown, serverSecretKey: Uint8Array | undefined): OpenedField {
  const clientKey = typeof generatedKey === 'string' ? decodeKey(generatedKey) : undefined;
  if (!clientKey) return { ok: true, value };
  if (typeof value !== 'string' || !serverSecretKey) return { ok: false };
  const bytes = decodeBase64(value);
  if (!bytes || bytes.length <= nacl.box.nonceLength) return { ok: false };
  const plain = nacl.box.open.after(bytes.subarray(nacl.box.nonceLength), bytes.subarray(0, nacl.box.nonceLength), sharedKey(generatedKey as string, clientKey, serverSecretKey));
  if (!plain) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(Buffer.from(plain).toString('utf8')) };
  } catch {
    return { ok: false };
  }
}
