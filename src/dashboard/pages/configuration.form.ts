/**
 * The configuration form (new and edit): its fields, read back into a ConfigurationInput with
 * every problem as a sentence (the JSON parser's own, with its line), so a refused form comes back
 * with the operator's text intact.
 */
import type { FastifyRequest } from 'fastify';
import { ConfigurationError, configurationProblems, MAX_DOCUMENT_BYTES, normaliseDocument, type Configuration, type ConfigurationInput } from '../../app-config/configuration.ts';
import { saveConfiguration, type Saved } from '../../app-config/save-configuration.ts';
import type { Pool } from '../../db/database.ts';
import { withTransaction } from '../../db/transaction.ts';
import { csrfField } from '../auth/csrf.ts';
import type { FormFields } from '../dashboard-deps.ts';
import { html, type SafeHtml } from '../../html.ts';

/** A form body can hold a whole document, URL-encoded (up to 3 bytes per character). */
export const CONFIGURATION_BODY_LIMIT = 3 * MAX_DOCUMENT_BYTES + 16 * 1024;

/** The fields as typed (strings), for showing the form again. */
export interface ConfigurationFields {
  name: string;
  idPattern: string;
  contextPattern: string;
  order: string;
  enabled: boolean;
  weight: string;
  document: string;
}

export const NEW_CONFIGURATION: ConfigurationFields = {
  name: '', idPattern: '', contextPattern: '.*', order: '0', enabled: true, weight: '',
  document: JSON.stringify({ ui: [], configuration_url: 'https://dcs.example.org/data/app-config.json?id=<IDENTIFIER>', passive_data_kit: { endpoint: '', enabled: true } }, null, 2),
};

export function fieldsOf(input: ConfigurationInput): ConfigurationFields {
  return { ...input, order: String(input.order), weight: input.weight === null ? '' : String(input.weight) };
}

export function readConfigurationForm(body: unknown): { fields: ConfigurationFields; input?: ConfigurationInput; problems: string[] } {
  const form = (body ?? {}) as FormFields;
  const one = (name: string) => {
    const value = form[name];
    return (Array.isArray(value) ? value[0] : value) ?? '';
  };
  const fields: ConfigurationFields = {
    name: one('name').trim(), idPattern: one('id_pattern').trim(), contextPattern: one('context_pattern').trim(), order: one('order').trim(),
    enabled: one('enabled') === '1', weight: one('weight').trim(), document: one('document'),
  };
  const problems: string[] = [];
  let document = '';
  try {
    document = normaliseDocument(fields.document);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    problems.push(error.message);
  }
  const number = (text: string) => (/^-?\d+$/.test(text) ? Number(text) : Number.NaN);
  const input: ConfigurationInput = {
    name: fields.name, idPattern: fields.idPattern, contextPattern: fields.contextPattern || '.*', order: fields.order === '' ? 0 : number(fields.order),
    enabled: fields.enabled, weight: fields.weight === '' ? null : number(fields.weight), document,
  };
  problems.push(...configurationProblems(input));
  return problems.length > 0 ? { fields, problems } : { fields, input, problems };
}

/** The form, posting to `action`; `problems` shown above it. */
export function configurationForm(request: FastifyRequest, action: string, fields: ConfigurationFields, submit: string, problems: readonly string[] = []): SafeHtml {
  return html`${problems.length > 0 ? html`<div class="notice error" role="alert"><p>Not saved:</p><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}
  <form method="post" action="${action}" class="configuration">${csrfField(request)}
    <div class="fields">
      <label>Name <input type="text" name="name" value="${fields.name}" required maxlength="200"></label>
      <label>Identifier pattern <input type="text" name="id_pattern" value="${fields.idPattern}" required class="mono" placeholder="P[0-9]{8}"></label>
      <label>Context pattern <input type="text" name="context_pattern" value="${fields.contextPattern}" class="mono"></label>
      <label>Order <input type="text" name="order" value="${fields.order}" inputmode="numeric" size="6"></label>
      <label>Weight <input type="text" name="weight" value="${fields.weight}" inputmode="numeric" size="6" placeholder="none"></label>
      <label class="check"><input type="checkbox" name="enabled" value="1"${fields.enabled ? html` checked` : ''}> Enabled</label>
    </div>
    <p class="muted small">Patterns are regular expressions matched against the whole identifier or context (<code>P[0-9]{8}</code>, <code>bric-.*</code>, <code>.*</code> for all).
      Lower order is tried first; exact identifiers before patterns. A weight makes this configuration one arm of a randomised set: all weighted configurations with the same identifier pattern.</p>
    <label class="block">Configuration (a JSON object; <code>passive_data_kit.identifier</code> is filled in per participant, and an empty <code>endpoint</code> with this server's upload URL)
      <textarea name="document" rows="24" spellcheck="false" class="mono">${fields.document}</textarea></label>
    <p><button type="submit">${submit}</button></p>
  </form>`;
}

/** Saves in a transaction of its own; a problem (a name already taken) comes back as its sentence. */
export async function trySave(pool: Pool, input: ConfigurationInput, by: string, existing?: Configuration): Promise<Saved | { problem: string }> {
  try {
    return await withTransaction(pool, (client) => saveConfiguration(client, input, by, existing));
  } catch (error) {
    if (error instanceof ConfigurationError) return { problem: error.message };
    throw error;
  }
}
