/** The version in package.json, written into every archive's README.txt. */
import { readFileSync } from 'node:fs';

export const SERVER_VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
