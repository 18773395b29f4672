/**
 * The reply shapes of the API for its OpenAPI document, keys in the order the routes write them
 * (api.routes.ts, sources.repository.ts, request-token.route.ts); test/api/openapi.test.ts compares
 * them with real replies key by key.
 */
import { TOKEN_LENGTH } from './api-tokens.ts';
import type { JsonSchema } from './openapi-schemas.ts';

const PAGING = {
  count: { type: 'integer', minimum: 0, description: 'Every matching row (an exact count), not only this page\'s.' },
  page_index: { type: 'integer', minimum: 0, description: 'The page_index asked for (0 when none was sent).' },
  page_size: { type: 'integer', minimum: 1, description: 'The page_size used (32 when none was sent); the Python client pages on with it.' },
};

export const REPLY_SCHEMAS: Record<string, JsonSchema> = {
  Error: {
    type: 'object',
    required: ['message', 'code'],
    properties: {
      message: { type: 'string', description: 'What was wrong, for a person: a refused field is named, with the ones allowed.' },
      code: { type: 'string', description: 'A stable code of the error catalogue (docs/errors.md).' },
    },
  },
  DataPointsReply: {
    type: 'object',
    description: 'Indented by 2 spaces, as the original\'s; keys in this order.',
    required: ['latest', 'count', 'page_index', 'page_size', 'matches'],
    properties: {
      latest: {
        type: 'integer',
        minimum: 0,
        description: 'The newest point id handed out when the call ran (or the latest_pk sent). Send it back as latest_pk to page over the same points while new ones arrive.',
      },
      ...PAGING,
      matches: { type: 'array', items: { $ref: '#/components/schemas/DataPoint' }, description: 'This page\'s points; [] when none.' },
    },
  },
  DataPoint: {
    type: 'object',
    description: 'The point as the extension uploaded it (every key it sent, and those the server added at upload), with the server\'s two times inside passive-data-metadata. Stored as jsonb: the keys come back in PostgreSQL\'s order (shorter keys first), not the upload\'s.',
    required: ['passive-data-metadata'],
    properties: {
      'passive-data-metadata': {
        type: 'object',
        required: ['pdk_server_created', 'pdk_server_recorded'],
        properties: {
          source: { type: 'string', description: 'The participant\'s identifier.' },
          generator: { type: 'string', description: 'The data type and the client\'s user agent.' },
          'generator-id': { type: 'string', description: 'The data type (filter generator_identifier).' },
          timestamp: { type: 'number', description: 'When the client observed it, epoch seconds, as it sent it.' },
          pdk_server_created: { type: 'number', description: 'The point\'s created time (filter created), epoch seconds with a fraction.' },
          pdk_server_recorded: { type: 'number', description: 'When this server received it (filter recorded), epoch seconds with a fraction.' },
        },
        additionalProperties: true,
      },
    },
    additionalProperties: true,
  },
  DataSourcesReply: {
    type: 'object',
    description: 'Compact JSON, as the original\'s; keys in this order.',
    required: ['count', 'page_index', 'page_size', 'matches'],
    properties: { ...PAGING, matches: { type: 'array', items: { $ref: '#/components/schemas/DataSource' } } },
  },
  DataSource: {
    type: 'object',
    description: 'A participant (data source), keys in this order. Removed sources are left out.',
    required: ['name', 'identifier', 'latest_user_agent', 'suppresses_alerts', 'point_count', 'group', 'active_alerts', 'earliest_point', 'latest_point'],
    properties: {
      name: { type: 'string', description: 'The name staff gave it, or its identifier.' },
      identifier: { type: 'string', description: 'The participant\'s identifier, as the extension sends it.' },
      latest_user_agent: { type: ['string', 'null'], description: 'The browser of its latest point.' },
      suppresses_alerts: { type: 'boolean', description: 'Its alerts are suppressed, by itself or by its group.' },
      point_count: { type: 'integer', minimum: 0, description: 'Every point stored for it (after de-duplication), not only those of the statistics window as in the original.' },
      group: { type: ['string', 'null'], description: 'Its group\'s name (a study arm), or null.' },
      active_alerts: { type: 'array', items: { $ref: '#/components/schemas/Alert' } },
      earliest_point: { type: 'null', description: 'Always null, as in the original.' },
      latest_point: { type: 'null', description: 'Always null, as in the original.' },
    },
  },
  Alert: {
    type: 'object',
    required: ['name', 'level', 'source', 'generator', 'created', 'updated', 'active', 'details'],
    properties: {
      name: { type: 'string', description: 'The check, e.g. upload-overdue.' },
      level: { type: 'string', enum: ['info', 'warning', 'critical'] },
      source: { type: 'string' },
      generator: { type: 'null' },
      created: { type: 'string', format: 'date-time' },
      updated: { type: 'string', format: 'date-time' },
      active: { type: 'boolean', const: true },
      details: { description: 'What the check found (JSON).' },
    },
  },
  UpdateReply: {
    type: 'object',
    required: ['updated'],
    properties: { updated: { type: 'integer', minimum: 0, description: 'Sources the last update object matched (as the original: not a sum over the objects).' } },
  },
  TokenReply: {
    type: 'object',
    required: ['token', 'expires'],
    properties: {
      token: { type: 'string', pattern: `^[A-Za-z0-9]{${TOKEN_LENGTH}}$`, description: 'A new read-write staff token; only its hash is kept, so each call issues another.' },
      expires: { type: 'string', format: 'date-time', description: 'When it stops working (API_TOKEN_HOURS after now), as Python\'s isoformat(): "2024-05-18T19:30:37.123000+00:00".' },
    },
  },
};
