/**
 * alert-digest (daily at ALERT_DIGEST_TIME, only with ALERT_DIGEST_RECIPIENTS): e-mails the active
 * alerts to the study team, as the original's pdk_send_alert_digest (sent even when there are
 * none), and below them the server's own alert (backups) when there is one. Throws when the mail cannot be sent, so the run is recorded as failed.
 */
import { readBackupHealth } from '../backup/backup-runs.repository.ts';
import { describeBackups } from '../backup/backup-status.ts';
import type { JobDefinition } from '../job-contract.ts';
import { sendMail } from '../mail/mailer.ts';
import { composeAlertDigest } from './alert-digest.ts';
import { listActiveAlerts } from './alerts.repository.ts';

export const alertDigestJob: JobDefinition = {
  name: 'alert-digest',
  description: 'E-mails the active alerts to ALERT_DIGEST_RECIPIENTS.',
  schedule: { dailyAt: (config) => config.alertDigestTime },
  enabled: (config) => config.alertDigestRecipients.length > 0,
  async run({ pool, config }) {
    if (config.alertDigestRecipients.length === 0) throw new Error('ALERT_DIGEST_RECIPIENTS is not set: there is nobody to send the digest to.');
    const digest = composeAlertDigest(await listActiveAlerts(pool), config.timeZone);
    // The server's own alert, after the participants' (the original had none to report).
    const backups = describeBackups(await readBackupHealth(pool), config);
    const text = backups.alert ? `${digest.text}\nThe server needs attention:\n - Backups: ${backups.message}\n` : digest.text;
    await sendMail(config, { to: config.alertDigestRecipients, subject: digest.subject, text });
    return { sources: digest.sources, alerts: digest.alerts, recipients: config.alertDigestRecipients.length, serverAlerts: backups.alert ? 1 : 0 };
  },
};
