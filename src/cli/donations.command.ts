/**
 * `dcs donations keys`: the keys a server needs for participants' donations (docs/donations.md,
 * "Settings"), as lines for the environment, and the study's content key pair, whose secret half
 * belongs to the analysts and never to the server (it opens the sealed ChatGPT texts).
 */
import { generateKeyPair } from '../crypto/box.ts';
import { generateSecretKey } from '../crypto/secretbox.ts';

export const DONATIONS_USAGE = `  donations keys            print new DONATION_PUBLIC_KEY, DONATION_SECRET_KEY, DONATION_HASH_KEY and a
                            content key pair (PDK_EXTERNAL_CONTENT_PUBLIC_KEY; its secret half is for
                            the analysts, not the server)`;

/** The lines `dcs donations keys` prints: the server's settings, then the content key pair apart. */
export function donationKeyLines(): string[] {
  const files = generateKeyPair();
  const content = generateKeyPair();
  return [
    '# Donated files are sealed to DONATION_PUBLIC_KEY as they arrive; only the workers that import them',
    '# need DONATION_SECRET_KEY. DONATION_HASH_KEY keys the hashes of order ids: keep it for the study\'s',
    '# whole life (a new one makes the same order hash differently).',
    `DONATION_PUBLIC_KEY=${files.publicKey}`,
    `DONATION_SECRET_KEY=${files.secretKey}`,
    `DONATION_HASH_KEY=${generateSecretKey()}`,
    '',
    '# The study\'s content key pair: donated ChatGPT titles and messages are sealed to its public half.',
    `PDK_EXTERNAL_CONTENT_PUBLIC_KEY=${content.publicKey}`,
    '# SECRET HALF: KEEP OFF THE SERVER. Give it to the analysts who open the sealed texts (docs/donations.md)',
    '# and keep a copy away from this machine: without it no sealed text can be read.',
    `# content secret key: ${content.secretKey}`,
  ];
}
