/**
 * The donation sources this server can import, and which of them participants are offered: those
 * DONATION_SOURCES enables, once the keys they need are set (docs/donations.md, "Settings").
 */
import type { Config } from '../config.ts';
import type { DonationImporter, ImportContext } from './importer-contract.ts';
import { amazonImporter } from './importers/amazon.ts';
import { chatgptImporter } from './importers/chatgpt.ts';

const IMPORTERS: readonly DonationImporter[] = [amazonImporter, chatgptImporter];

export function importerFor(source: string): DonationImporter | undefined {
  return IMPORTERS.find((importer) => importer.source === source);
}

/** What keeps participants from uploading at all (empty: uploads are open), in the operator's words. */
export function donationSettingsMissing(config: Config): string[] {
  const missing: string[] = [];
  if (!config.externalContentKey) missing.push('PDK_EXTERNAL_CONTENT_SYMETRIC_KEY (the enrollment server\'s link key)');
  if (!config.donationPublicKey) missing.push('DONATION_PUBLIC_KEY (files are sealed to it)');
  if (!config.donationHashKey) missing.push('DONATION_HASH_KEY (order ids are hashed with it)');
  return missing;
}

/** The enabled sources participants can upload to now (a source whose keys are missing is not offered). */
export function offeredSources(config: Config): string[] {
  if (donationSettingsMissing(config).length > 0) return [];
  return config.donationSources.filter((source) => importerFor(source) && (source !== 'chatgpt' || config.contentPublicKey));
}

/**
 * The importers' context from the configuration. Throws when a key the import needs is missing
 * (settings changed after the upload): the worker then keeps the file for a later attempt.
 */
export function importContext(config: Config, source: string): ImportContext {
  const hashKey = config.donationHashKey;
  const contentPublicKey = config.contentPublicKey;
  if (!hashKey) throw new Error('DONATION_HASH_KEY is not set');
  if (source === 'chatgpt' && !contentPublicKey) throw new Error('PDK_EXTERNAL_CONTENT_PUBLIC_KEY is not set');
  return {
    timeZone: config.timeZone,
    hashKey,
    // Amazon seals nothing: any valid key will do where the study has none
    contentPublicKey: contentPublicKey ?? hashKey,
    // what a file may unpack to: its size limit, and at least 256 MB (a ChatGPT ZIP packs 30:1)
    maxExpandedBytes: Math.max(config.donationMaxFileBytes, 256 * 1024 * 1024),
  };
}
