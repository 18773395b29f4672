/** What one export archive holds (a leaf: the writer, README.txt and report jobs all use it). */

export type ExportFormat = 'tsv' | 'raw' | 'parquet';
export type DateType = 'created' | 'recorded';

export interface ExportRequest {
  /** resolved, sorted source identifiers */
  sources: readonly string[];
  types: readonly string[];
  from?: string;
  to?: string;
  dateType: DateType;
  format: ExportFormat;
}
