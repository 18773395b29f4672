/**
 * alert-digest (daily at ALERT_DIGEST_TIME, only with ALERT_DIGEST_RECIPIENTS): e-mails the active
 * alerts to the study team, as the original's pdk_send_alert_digest (sent even when there are
 * none), and below them the server's own alerts (backups, points in the DEFAULT partition) when there are any. Throws when the mail cannot be sent, so the run is recorded as failed.
 */
import { readBackupHealth } from '../backup/backup-runs.repository.ts';
import { describeBackups } from '../backup/backup-status.ts';
import type { JobDefinition } from '../job-contract.ts';
import { sendMail } from '../mail/mailer.ts';
import { composeAlertDigest } from './alert-digest.ts';
import { listActiveAlerts } from './alerts.repository.ts';
import { describeDefaultPartition, readDefaultPartition } from './default-partition.ts';

export const alertDigestJob: JobDefinition = {
  name: 'alert-digest',
  description: 'E-mails the active alerts to ALERT_DIGEST_RECIPIENTS.',
  schedule: { dailyAt: (config) => config.alertDigestTime },
  enabled: (config) => config.alertDigestRecipients.length > 0,
  async run({ pool, config }) {
    if (config.alertDigestRecipients.length === 0) throw new Error('ALERT_DIGEST_RECIPIENTS is not set: there is nobody to send the digest to.');
    const digest = composeAlertDigest(await listActiveAlerts(pool), config.timeZone);
    // The server's own alerts, after the participants' (the original had none to report).
    const serverAlerts = [
      { name: 'Backups', ...describeBackups(await readBackupHealth(pool), config) },
      { name: 'Points in the DEFAULT partition', ...describeDefaultPartition(await readDefaultPartition(pool)) },
    ].filter((a) => a.alert);
    const text = serverAlerts.length > 0
      ? `${digest.text}\nThe server needs attention:\n${serverAlerts.map((a) => ` - ${a.name}: ${a.message}\n`).join('')}`
      : digest.text;
    await sendMail(config, { to: config.alertDigestRecipients, subject: digest.subject, text });
    return { sources: digest.sources, alerts: digest.alerts, recipients: config.alertDigestRecipients.length, serverAlerts: serverAlerts.length };
  },
};
