'use strict';
// Same API as buffer-crc32 1.0.0 (https://github.com/brianloveswords/buffer-crc32), on zlib.crc32.
const { crc32: native } = require('node:zlib');

function toBuffer(input) {
  if (Buffer.isBuffer(input)) return input;
  if (typeof input === 'number') return Buffer.alloc(input);
  if (typeof input === 'string') return Buffer.from(input);
  throw new Error('input must be buffer, number, or string, received ' + typeof input);
}

function unsigned(buf, previous) {
  const start = Buffer.isBuffer(previous) ? previous.readUInt32BE(0) : (previous >>> 0) || 0;
  return native(toBuffer(buf), start);
}

function crc32(buf, previous) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(unsigned(buf, previous), 0);
  return out;
}
crc32.unsigned = unsigned;
crc32.signed = (buf, previous) => unsigned(buf, previous) | 0;

module.exports = crc32;
