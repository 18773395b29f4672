/**
 * upload-overdue (the original's pdk-data-upload): how long since the source's newest point by
 * `created`. UPLOAD_CRITICAL_HOURS: critical; UPLOAD_WARNING_HOURS: warning; no point ever: critical.
 */
import type { CheckOutcome } from '../alerts.repository.ts';
import { ELIGIBLE_SOURCES, type StatusCheck } from './check.ts';

/** "Latest data was uploaded 5.25 hours ago." / "... 1.50 days ago." (from 24 hours), as the original. */
export function describeUploadAge(ageSeconds: number): string {
  const hours = ageSeconds / 3600;
  return hours < 24
    ? `Latest data was uploaded ${hours.toFixed(2)} hours ago.`
    : `Latest data was uploaded ${(hours / 24).toFixed(2)} days ago.`;
}

export const uploadOverdueCheck: StatusCheck = {
  id: 'upload-overdue',
  async evaluate(pool, config) {
    const { rows } = await pool.query<{ source: string; age: number | null }>(
      `WITH ${ELIGIBLE_SOURCES}
       SELECT source, extract(epoch FROM now() - latest_point_created)::float8 AS age FROM eligible`,
    );
    const outcomes: CheckOutcome[] = [];
    for (const { source, age } of rows) {
      if (age === null) {
        outcomes.push({ source, name: 'Data never uploaded', level: 'critical', details: { message: 'No data has been uploaded from this user.' } });
      } else if (age >= config.uploadCriticalHours * 3600) {
        outcomes.push({ source, name: 'Data upload is critically overdue', level: 'critical', details: { message: describeUploadAge(age) } });
      } else if (age >= config.uploadWarningHours * 3600) {
        outcomes.push({ source, name: 'Data upload is overdue', level: 'warning', details: { message: describeUploadAge(age) } });
      }
    }
    return outcomes;
  },
};
