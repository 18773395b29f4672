/**
 * PDK's generic exporter (pdk-server.md §7.4), for every data type without an exporter of its
 * own. The original crashed on it under Python 3 and silently left those types out.
 */
import { ZonedTime, onePerPoint, type Exporter } from '../exporter.ts';
import { column, SOURCE } from './common.ts';

export function genericExporter(generatorId: string, label: string, serverZone: string): Exporter {
  return {
    id: generatorId,
    label,
    generators: [generatorId],
    layout: 'single',
    rowsAre: 'one row per point (generic PDK layout)',
    rows: onePerPoint,
    columns: [
      SOURCE,
      column('Generator', 'string', '`passive-data-metadata.generator` (data type, extension and user agent)', ({ point }) => point.stored.generator),
      column('Generator Identifier', 'string', 'the data type', ({ point }) => point.stored.generatorId),
      column('Created Timestamp', 'int', 'Date Created as Unix seconds', ({ point }) => Math.floor(point.stored.createdMicros / 1e6)),
      column('Created Date', 'time', 'when the extension made the point, in the server TIME_ZONE', ({ point }) => new ZonedTime(point.stored.createdMicros, serverZone)),
      column('Latitude', 'double', 'always empty (browser points carry no location)', () => undefined),
      column('Longitude', 'double', 'always empty', () => undefined),
      column('Recorded Timestamp', 'int', 'Date Recorded as Unix seconds', ({ point }) => Math.floor(point.stored.recordedMicros / 1e6)),
      column('Recorded Date', 'time', 'when the server received it, in the server TIME_ZONE', ({ point }) => new ZonedTime(point.stored.recordedMicros, serverZone)),
      column('Properties', 'string', 'the whole point as compact JSON', ({ point }) => JSON.stringify(point.properties)),
    ],
  };
}
