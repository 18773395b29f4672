/**
 * What a configuration is, and the checks every way of saving one runs (dashboard form, import
 * file): the same rules, the same sentences.
 */
import { patternProblem } from './patterns.ts';

/** A configuration as staff write it (the import file's entries, the dashboard form). */
export interface ConfigurationInput {
  name: string;
  idPattern: string;
  contextPattern: string;
  order: number;
  enabled: boolean;
  /** set: an arm of the randomised arm set of the configurations with the same idPattern */
  weight: number | null;
  /** the JSON object, as text, indented by 2 (normaliseDocument) */
  document: string;
}

/** A stored configuration: the input, its id and its current version. */
export interface Configuration extends ConfigurationInput {
  id: number;
  version: number;
  updatedAt: Date;
  updatedBy: string;
}

export const MAX_NAME_LENGTH = 200;
/** Largest document: a whole REX configuration with lists is tens of kilobytes. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;
const MAX_ORDER = 1_000_000_000;
const MAX_WEIGHT = 1_000_000;

export class ConfigurationError extends Error {}

/**
 * The document as stored: the JSON object re-printed with an indent of 2 (the order of its keys
 * kept), so that versions differ only where their content does. Throws ConfigurationError with
 * the parser's message when the text is not a JSON object.
 */
export function normaliseDocument(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`the configuration is not valid JSON: ${withLine((error as Error).message, text)}`);
  }
  return normaliseValue(value);
}

/** The parser's message with the line and column of its position, which Node 20's leaves out. */
function withLine(message: string, text: string): string {
  const position = /at position (\d+)/.exec(message);
  if (!position || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(position[1])).split('\n');
  return `${message} (line ${before.length} column ${before[before.length - 1].length + 1})`;
}

/** A parsed document (an import file's `configuration`) as stored. */
export function normaliseValue(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigurationError('the configuration must be a JSON object ({ ... })');
  const pdk = (value as Record<string, unknown>).passive_data_kit;
  if (pdk !== undefined && (typeof pdk !== 'object' || pdk === null || Array.isArray(pdk))) {
    throw new ConfigurationError('passive_data_kit must be an object (the server fills in its identifier)');
  }
  const text = JSON.stringify(value, null, 2);
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) throw new ConfigurationError(`the configuration is larger than ${MAX_DOCUMENT_BYTES / 1024} KB`);
  return text;
}

/** Every problem of `input` (its document already normalised), as sentences; empty when it can be saved. */
export function configurationProblems(input: ConfigurationInput): string[] {
  const problems: string[] = [];
  const name = input.name.trim();
  if (name === '') problems.push('the name is empty');
  else if (name !== input.name) problems.push('the name begins or ends with spaces');
  else if (name.length > MAX_NAME_LENGTH) problems.push(`the name is longer than ${MAX_NAME_LENGTH} characters`);
  const idProblem = patternProblem(input.idPattern);
  if (idProblem) problems.push(`the identifier pattern ${idProblem}`);
  const contextProblem = patternProblem(input.contextPattern);
  if (contextProblem) problems.push(`the context pattern ${contextProblem}`);
  if (!Number.isInteger(input.order) || Math.abs(input.order) > MAX_ORDER) problems.push(`the order must be a whole number between -${MAX_ORDER} and ${MAX_ORDER}`);
  if (input.weight !== null && (!Number.isInteger(input.weight) || input.weight < 0 || input.weight > MAX_WEIGHT)) {
    problems.push(`the weight must be a whole number from 0 to ${MAX_WEIGHT}, or none`);
  }
  return problems;
}

/** Whether saving `input` over `current` would change anything (no change, no version). */
export function sameConfiguration(current: ConfigurationInput, input: ConfigurationInput): boolean {
  return current.name === input.name && current.idPattern === input.idPattern && current.contextPattern === input.contextPattern
    && current.order === input.order && current.enabled === input.enabled && current.weight === input.weight && current.document === input.document;
}
