import nacl from 'tweetnacl';
const k1 = nacl.box.keyPair(), k2 = nacl.box.keyPair();
const msg = new Uint8Array(24 * 1024 * 1024); const nonce = new Uint8Array(24);
const box = nacl.box(msg, nonce, k1.publicKey, k2.secretKey);
const t = performance.now(); nacl.box.open(box, nonce, k2.publicKey, k1.secretKey);
console.log('open 24 MB', ((performance.now() - t)/1000).toFixed(2), 's');
