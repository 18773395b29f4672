/** `dcs donations keys`: keys the configuration accepts, a matching pair, the content secret kept out of the settings. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openSealedBox, sealedBoxTo } from '../../src/crypto/sealed-box.ts';
import { secretKeyProblem } from '../../src/donations/donations.job.ts';
import { runDcs } from '../helpers/dcs.ts';

/** The NAME=value lines of an output, as a dotenv file would be read (comments ignored). */
function settingsOf(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.split('\n').filter((line) => /^[A-Z_]+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describe('dcs donations keys', () => {
  it('prints the donation settings, and the content key pair with its secret half only in a marked comment', async () => {
    const [first, second] = await Promise.all([runDcs(['donations', 'keys'], { databaseUrl: 'postgres://unused' }), runDcs(['donations', 'keys'], { databaseUrl: 'postgres://unused' })]);
    expect(first.code, first.stderr).toBe(0);
    const settings = settingsOf(first.stdout);
    expect(Object.keys(settings)).toEqual(['DONATION_PUBLIC_KEY', 'DONATION_SECRET_KEY', 'DONATION_HASH_KEY', 'PDK_EXTERNAL_CONTENT_PUBLIC_KEY']);
    const config = loadConfig(settings);
    expect(config.donationHashKey).toHaveLength(32);
    // the pair is one: the import job opens what the upload handler sealed
    expect(secretKeyProblem(config)).toBeUndefined();
    expect(openSealedBox(sealedBoxTo(config.donationPublicKey!)(Buffer.from('file')), config.donationSecretKey!)?.toString()).toBe('file');

    const [, contentSecret] = /^# content secret key: (\S+)$/m.exec(first.stdout)!;
    expect(first.stdout).toMatch(/^# SECRET HALF: KEEP OFF THE SERVER\./m);
    const sealed = sealedBoxTo(config.contentPublicKey!)(Buffer.from('a ChatGPT message'));
    expect(openSealedBox(sealed, Buffer.from(contentSecret, 'base64'))?.toString()).toBe('a ChatGPT message');
    expect(Object.values(settings)).not.toContain(contentSecret);

    // new keys each time
    const again = settingsOf(second.stdout);
    for (const name of Object.keys(settings)) expect(again[name]).not.toBe(settings[name]);
  }, 60_000);

  it('refuses anything else, with its usage', async () => {
    const result = await runDcs(['donations', 'key'], { databaseUrl: 'postgres://unused' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Usage: dcs donations keys');
  }, 60_000);
});
