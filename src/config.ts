/**
 * The only reader of the environment. `loadConfig(env)` validates every variable once, reports
 * every problem together, and returns a frozen object. Each variable is documented here, where it
 * is read, and in README.md's configuration table.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decodeKey } from './crypto/box.ts';

export interface Config {
  /** PORT: TCP port of the HTTP server. Default 8000. */
  readonly port: number;
  /** HOST: address to bind. Default 0.0.0.0 (all interfaces). */
  readonly host: string;
  /** DATABASE_URL: any PostgreSQL >= 15. Unset: the embedded PostgreSQL under DATA_DIR/postgres. */
  readonly databaseUrl: string | undefined;
  /**
   * DATABASE_DIRECT_URL: the same database reached directly, not through a transaction-mode pooler
   * such as PgBouncer, for what needs a session of its own: the processing worker's LISTEN
   * (wake-ups on new uploads; polling stays the safety net) and the migrations' lock at start.
   * Unset: DATABASE_URL. Needs DATABASE_URL (docs/operations.md, "Behind PgBouncer").
   */
  readonly databaseDirectUrl: string | undefined;
  /**
   * DATABASE_READ_URL: a read replica of DATABASE_URL for reads that may lag a little: exports and
   * the dashboard's pages of statistics, points, user agents, products and the health history.
   * Writes, and reads that must see a write just made, stay on DATABASE_URL. Unset: DATABASE_URL.
   * Needs DATABASE_URL.
   */
  readonly databaseReadUrl: string | undefined;
  /** DATA_DIR: where the embedded database and local files live. Default ./data. */
  readonly dataDir: string;
  /** PDK_SERVER_KEY: base64 of the server's 32-byte NaCl secret key (the original's setting). */
  readonly serverSecretKey: Uint8Array | undefined;
  /** PDK_CLIENT_KEY: base64 of the clients' shared 32-byte NaCl public key. */
  readonly clientPublicKey: Uint8Array | undefined;
  /**
   * BACKUP_KEY (or the original's PDK_BACKUP_KEY): base64 of the 32-byte NaCl secretbox key every
   * backup file is encrypted with before it leaves the machine (`dcs backup key` prints a new one).
   * Without it no backup runs. Keep a copy away from the server: without it backups cannot be read.
   */
  readonly backupKey: Uint8Array | undefined;
  /**
   * PDK_EXTERNAL_CONTENT_SYMETRIC_KEY (sic, the original's name): base64 of the 32-byte NaCl
   * secretbox key shared with the enrollment server, which encrypts the `start?auto=` links of the
   * participants' data donations with it (ecosystem-api.md §2.8.1). Unset: donations are off.
   */
  readonly externalContentKey: Uint8Array | undefined;
  /** DONATION_SOURCES: the donation sources participants may upload to, comma-separated. Default amazon,chatgpt. */
  readonly donationSources: readonly string[];
  /**
   * DONATION_PUBLIC_KEY / DONATION_SECRET_KEY: a NaCl box key pair (base64, `dcs donations keys`
   * prints one). Donated files are sealed to the public key as they stream in; only the worker's
   * import job needs the secret key, so a web-only machine can run without it.
   */
  readonly donationPublicKey: Uint8Array | undefined;
  readonly donationSecretKey: Uint8Array | undefined;
  /** DONATION_HASH_KEY: base64 of 32 bytes, the HMAC key of donated identifiers (Amazon order ids). No default. */
  readonly donationHashKey: Uint8Array | undefined;
  /**
   * PDK_EXTERNAL_CONTENT_PUBLIC_KEY (the original's name): the study's NaCl public key that donated
   * free text (ChatGPT titles and messages) is sealed to. The server never holds its secret half.
   * Unset: the `chatgpt` source is not offered.
   */
  readonly contentPublicKey: Uint8Array | undefined;
  /** DONATION_MAX_FILE_MB: largest donated file, in MB (default 100); larger is refused as it streams in. */
  readonly donationMaxFileBytes: number;
  /** DONATION_KEEP_FILES: keep a donated file's sealed bytes after import (default false: deleted once imported; the points stay). */
  readonly donationKeepFiles: boolean;
  /** DONATION_REVIEW_HOURS: how long an extraction waits for the participant's confirmation before it expires (default 72). */
  readonly donationReviewHours: number;
  /**
   * MAX_BODY_BYTES: largest accepted upload body; larger gets 413 before it is read. Default 32 MiB:
   * real bundles are at most 4 MiB plus one point (webmunk-clients.md §1.3), and a whole page, the
   * largest point, is 0.5-1.5 MB; gzip and base64 only make the body smaller than the JSON.
   */
  readonly maxBodyBytes: number;
  /** MAX_INFLATED_BYTES: largest payload once decompressed (the JSON text); larger is stored errored. Default 64 MiB. */
  readonly maxInflatedBytes: number;
  /** MAX_POINT_BYTES: largest data point (its JSON text); an upload with a larger one is stored errored. Default 16 MiB (10x a whole page), or MAX_INFLATED_BYTES if smaller. */
  readonly maxPointBytes: number;
  /** MAX_BUNDLE_POINTS: most data points in one upload; more is stored errored. Default 100,000 (clients send at most 1,000, or 4 MiB). */
  readonly maxBundlePoints: number;
  /**
   * UPLOAD_MAX_INFLIGHT_BYTES: upload bytes one process holds at once (declared Content-Length, or
   * MAX_BODY_BYTES when a body has none). An upload that does not fit waits up to 10 s, then gets
   * 503 with a reply every client resends; one alone always fits. Bounds the memory uploads take
   * (about 4x this at worst: the body, Fastify's copy, the database message, compression).
   * Default 32 MiB: 300 uploads of 100 KB at once.
   */
  readonly uploadMaxInflightBytes: number;
  /**
   * UPLOAD_RATE_PER_MINUTE: uploads one client address may send per minute (per web process;
   * bursts of a minute's worth). Beyond it: 429 with a reply every client resends. Default 3,000:
   * a lab of 200 participants behind one NAT address, each sending several uploads a minute.
   * 0 turns the limit off.
   */
  readonly uploadRatePerMinute: number;
  /** UPLOAD_BYTES_PER_MINUTE: upload body bytes one client address may send per minute (per web process). Default 1 GiB. 0: no limit. */
  readonly uploadBytesPerMinute: number;
  /**
   * ERRORED_UPLOADS_MAX_BYTES: total size of the undecodable uploads kept (stored errored, for
   * inspection). Once reached, further ones are answered as before but not kept, and counted
   * (System health, /metrics); the oldest stay. Default 1 GiB. 0: keep none.
   */
  readonly erroredUploadsMaxBytes: number;
  /**
   * SPOOL_DIR: where uploads are kept while the database cannot take them (docs/operations.md,
   * "The upload spool"). Default DATA_DIR/spool. The web processes of one machine may share it.
   */
  readonly spoolDir: string;
  /** SPOOL_MAX_BYTES: the spool's largest size; beyond it uploads are refused with 503 (clients keep them). Default 2 GiB. */
  readonly spoolMaxBytes: number;
  /** UPLOAD_DB_TIMEOUT_MS: an upload that gets no database connection within this goes to the spool. Default 2000. */
  readonly uploadDbTimeoutMs: number;
  /** UPLOADS_DISABLED: true = answer uploads as the original's "disabled" mode and store nothing. */
  readonly uploadsDisabled: boolean;
  /** UPLOAD_TOKENS: comma-separated bearer tokens; when set, an upload (see UPLOAD_TOKENS_FOR) with any other token gets 401. */
  readonly uploadTokens: readonly string[];
  /**
   * UPLOAD_TOKENS_FOR: which uploads must carry one of UPLOAD_TOKENS: `put` (default: the v3
   * clients' PUT, the only ones that can send a token) or `all` (every method: POST, CREATE, PUT,
   * add-point; only for studies whose clients all send one).
   */
  readonly uploadTokensFor: 'put' | 'all';
  /** PROCESS_BATCH_BUNDLES: most bundles claimed per processing transaction (a batch also stops at ~2 MB of JSON, claim-bundles.ts). Default 200. */
  readonly processBatchBundles: number;
  /** PROCESS_MAX_ATTEMPTS: failed processing attempts before a bundle is marked errored. Default 3. */
  readonly processMaxAttempts: number;
  /** WORKER_CONCURRENCY: processing loops per worker process. Default 2. */
  readonly workerConcurrency: number;
  /** DB_POOL_SIZE: connections per process. Default 20 (uploads wait on commits; more in flight share each WAL flush). */
  readonly dbPoolSize: number;
  /** LOG_LEVEL: fatal, error, warn, info, debug, trace or silent. Default info. */
  readonly logLevel: string;
  /** TIME_ZONE: IANA zone name (the original's setting) for days, daily jobs and dates shown, and the days an original's backup files are named by (dcs import-pdk --backups). Default UTC. */
  readonly timeZone: string;
  /**
   * TRUST_PROXY: which reverse proxies' X-Forwarded-For and X-Forwarded-Proto to believe, for the
   * client address (login limits, sessions) and HTTPS (Secure cookies). Default false: none, for
   * clients that connect directly (they could forge the headers). Either a comma-separated list of
   * the proxies' addresses or CIDRs (`10.0.0.5, 10.1.0.0/16`; also `loopback`, `linklocal`,
   * `uniquelocal`): headers are believed only on requests from those, and the client is the
   * right-most address that is not one of them (the safest form). Or a number N of proxies in front:
   * the client is the N-th address from the right, whoever connects (so the port must be reachable
   * only through the proxies). `true` means 1: one proxy in front. (Before, `true` believed every
   * hop, so a client chose its own address with a forged X-Forwarded-For.)
   */
  readonly trustProxy: TrustProxy;
  /** SESSION_HOURS: how long a dashboard login lasts without use. Default 12. */
  readonly sessionHours: number;
  /**
   * SESSION_MAX_HOURS: how long a dashboard login lasts at most, however often it is used (a stolen
   * session cookie stops working then); applies to open sessions too. Default 168 (a week).
   */
  readonly sessionMaxHours: number;
  /**
   * API_TOKEN_HOURS (or the original's PDK_TOKEN_LIFESPAN, in seconds): how long a token that
   * /data/api/request-token.json hands a staff member stays valid. Default 24. Service tokens for
   * other servers are issued by an administrator instead (`dcs tokens create`), with their own expiry.
   */
  readonly apiTokenSeconds: number;
  /** METADATA_WINDOW_DAYS: the statistics window (points, frequency), as the original. Default 60. */
  readonly metadataWindowDays: number;
  /** UPLOAD_WARNING_HOURS: upload-overdue warning after this many hours without a point. Default 4. */
  readonly uploadWarningHours: number;
  /** UPLOAD_CRITICAL_HOURS: ... critical after this many. Default 24. */
  readonly uploadCriticalHours: number;
  /** CLIENT_BACKLOG_POINTS: client-backlog warning when a source's latest pdk-system-status reports at least this many pending points. Default 5000. */
  readonly clientBacklogPoints: number;
  /** AUTOMATED_RECENT_DAYS: the automated-browser check looks at user agents seen in this many days. Default 7. */
  readonly automatedRecentDays: number;
  /**
   * DATA_QUALITY_UA_PATTERNS: comma-separated user-agent patterns (`*` any text, case-insensitive,
   * matched against the whole user agent) the team knows to be automation or its own tools; a
   * point from one raises the automated-browser flag like isbot's list does. Unset: none.
   */
  readonly dataQualityUaPatterns: readonly string[];
  /** DATA_QUALITY_TEST_IDS: comma-separated identifier patterns (`*` any text, case-insensitive) of test and team installs. Default `dev-*,test*`. */
  readonly dataQualityTestIds: readonly string[];
  /** DATA_QUALITY_SKEW_HOURS: a point whose `created` is further than this from `recorded`, either way, shows clock skew. Default 720 (30 days). */
  readonly dataQualitySkewHours: number;
  /**
   * DATA_QUALITY_POINTS_PER_MINUTE: most points of one data type a source may create in one minute
   * before it is an impossible rate: a number (every type), then optional `type=N` overrides,
   * comma-separated, e.g. `1000,webmunk-history-visit=120`. Default 1000.
   */
  readonly dataQualityPointsPerMinute: { readonly default: number; readonly byType: Readonly<Record<string, number>> };
  /** DATA_QUALITY_DUPLICATE_UPLOADS: uploads that brought only points already stored, from one source, that make a duplicate storm. Default 20. */
  readonly dataQualityDuplicateUploads: number;
  /** DATA_QUALITY_INTERLEAVE_MINUTES: two points of one source closer than this, with different user agents or time zones, count as a switch. Default 10. */
  readonly dataQualityInterleaveMinutes: number;
  /** DATA_QUALITY_INTERLEAVE_SWITCHES: switches that make the interleaved flag (one is an upgrade or a trip). Default 3. */
  readonly dataQualityInterleaveSwitches: number;
  /**
   * ENABLED_CHECKS: comma-separated status checks to run (upload-overdue, automated-browser,
   * client-backlog). Default all. A check left out closes its active alerts.
   */
  readonly enabledChecks: readonly string[];
  /** ALERT_DIGEST_RECIPIENTS (or the original's PDK_ALERT_DIGEST_RECIPIENTS): comma-separated e-mail addresses. Unset: no digest. */
  readonly alertDigestRecipients: readonly string[];
  /** ALERT_DIGEST_TIME: HH:MM in TIME_ZONE when the daily alert digest goes out. Default 08:00. */
  readonly alertDigestTime: string;
  /** SMTP_URL: the mail server for every e-mail, e.g. smtp://user:pass@mail.example.org:587 (smtps:// for TLS). */
  readonly smtpUrl: string | undefined;
  /** EMAIL_FROM: sender address of every e-mail. Default webmunk-dcs@localhost. */
  readonly emailFrom: string;
  /** METRICS_TOKEN: when set, /metrics needs `Authorization: Bearer <token>`. Unset: open. */
  readonly metricsToken: string | undefined;
  /**
   * PDK_REQUEST_KEY: the shared key original PDK servers send to read a source's performance
   * metadata (`POST /data/fetch-metadata.json`, federation), the original's setting and value.
   * Unset or empty: the endpoint is off and answers `{}` to everyone, as the original without it.
   */
  readonly pdkRequestKey: string | undefined;
  /** JOBS_DISABLED: true = this worker runs no scheduled jobs (processing only). Default false. */
  readonly jobsDisabled: boolean;
  /**
   * PUBLIC_URL: the dashboard's address as participants' and staff's browsers see it, e.g.
   * https://data.example.org. Its host names the nightly archives (the original's first
   * ALLOWED_HOSTS entry), it makes the links in e-mails, and PUBLIC_URL/data/add-bundle.json is
   * the upload endpoint of REX configurations that leave theirs empty. Default: http://<machine name>:PORT.
   */
  readonly publicUrl: string;
  /** EXPORT_DIR: where finished export archives are kept (downloads read them here). Default DATA_DIR/exports. */
  readonly exportDir: string;
  /** EXPORT_S3_BUCKET: nightly archives are also uploaded to this bucket (credentials, region, endpoint from the AWS SDK's own variables). Unset: no upload. */
  readonly exportS3Bucket: string | undefined;
  /** EXPORT_S3_PREFIX: key prefix in the bucket, e.g. studies/pilot. Default none. */
  readonly exportS3Prefix: string;
  /** EXPORT_S3_FORCE_PATH_STYLE: true for S3-compatible stores that need path-style URLs (MinIO, Ceph). Default false. */
  readonly exportS3ForcePathStyle: boolean;
  /** BACKUP_DIR: backups are written to this folder (ideally another disk or a network mount). Unset: none. */
  readonly backupDir: string | undefined;
  /** BACKUP_S3_BUCKET: backups are also (or only) written to this bucket (credentials, region, endpoint from the AWS SDK's own variables, as for exports). Unset: none. */
  readonly backupS3Bucket: string | undefined;
  /** BACKUP_S3_PREFIX: key prefix in the bucket. Default none. */
  readonly backupS3Prefix: string;
  /** BACKUP_S3_FORCE_PATH_STYLE: true for S3-compatible stores that need path-style URLs (MinIO, Ceph). Default false. */
  readonly backupS3ForcePathStyle: boolean;
  /** BACKUP_INTERVAL_MINUTES: a backup runs when the last successful one is this old. Default 60 (at least 5). */
  readonly backupIntervalMinutes: number;
  /** BACKUP_MAX_AGE_MINUTES: System health and /metrics raise the backup alert when the newest successful backup is older. Default 2 × BACKUP_INTERVAL_MINUTES. */
  readonly backupMaxAgeMinutes: number;
  /**
   * BUNDLE_RETENTION_DAYS: the job `bundle-retention` drops processed uploads (raw bundles) received
   * this many days ago or more; their points stay, but they can no longer be reprocessed. Never
   * one not yet in a backup while backups are configured, nor one with uploaded files or with an
   * error. Unset: bundles are kept forever (the default; docs/operations.md).
   */
  readonly bundleRetentionDays: number | undefined;
  /**
   * ARCHIVE_AFTER_MONTHS: the job `partitions` archives each month of data_points (by `created`)
   * that ended at least this many months ago: its points are written as Parquet with a manifest to
   * ARCHIVE_DIR or ARCHIVE_S3_BUCKET, verified, and only then dropped from the database
   * (docs/partitions.md, `dcs archive list|restore`). Unset: nothing is archived (the default).
   */
  readonly archiveAfterMonths: number | undefined;
  /** ARCHIVE_DIR: the folder archived months are written to. */
  readonly archiveDir: string | undefined;
  /**
   * ARCHIVE_S3_BUCKET, ARCHIVE_S3_PREFIX, ARCHIVE_S3_FORCE_PATH_STYLE: the S3 bucket (and key
   * prefix, path-style URLs for MinIO and Ceph) archived months are written to when ARCHIVE_DIR is
   * not set; region, credentials and endpoint come from the AWS SDK's own variables, as for exports.
   */
  readonly archiveS3: { bucket: string; prefix: string; forcePathStyle: boolean } | undefined;
  /** BACKUP_FILE_MB: a backup file holds at most about this many MiB before compression; a run holds about 3 times its compressed size in memory while it seals it. Default 16. */
  readonly backupFileMegabytes: number;
  /** EXPORT_NOTIFY_EMAIL: comma-separated addresses told when an export job finishes or fails (needs SMTP_URL). Unset: no notice. */
  readonly exportNotifyEmail: readonly string[];
  /** NIGHTLY_EXPORT: false = no nightly export. Default true. */
  readonly nightlyExport: boolean;
  /** NIGHTLY_EXPORT_TIME: HH:MM in TIME_ZONE after which the previous day is exported. Default 09:30. */
  readonly nightlyExportTime: string;
  /** SOURCES_PER_REPORT_JOB (or the original's PDK_SOURCES_PER_REPORT_JOB): sources per nightly archive. Default 10. */
  readonly sourcesPerReportJob: number;
  /** NIGHTLY_EXPORT_EXCLUDE (or the original's WEBMUNK_EXCLUDE_NIGHTLY_EXPORT_USERS): comma-separated sources the nightly export leaves out. */
  readonly nightlyExportExclude: readonly string[];
  /** KEEPA_API_KEY: the Keepa API key (the original's setting). Unset: no Keepa enrichment. */
  readonly keepaApiKey: string | undefined;
  /** KEEPA_API_URL: the Keepa API's base URL, for tests and proxies. Default https://api.keepa.com. */
  readonly keepaApiUrl: string;
  /** KEEPA_DOMAIN: the Amazon marketplace, as Keepa's number (1 US, 2 GB, 3 DE, 4 FR, 5 JP, 6 CA, 8 IT, 9 ES, 10 IN, 11 MX) or its code. Default 1 (US). */
  readonly keepaDomain: number;
  /** ASIN_LOOKUP_SERVERS (or the original's WEBMUNK_ASIN_LOOKUP_SERVERS): comma-separated peer servers asked for /support/asin/<asin>.json before Keepa. */
  readonly asinLookupServers: readonly string[];
  /** ASIN_PEER_TOKENS: comma-separated bearer tokens that may read the /support/asin endpoints (besides a dashboard login). */
  readonly asinPeerTokens: readonly string[];
  /** ASIN_ENDPOINTS_PUBLIC: true opens the /support/asin endpoints to anyone (peers that cannot send a token). Default false. */
  readonly asinEndpointsPublic: boolean;
  /**
   * ASIN_ENDPOINTS_ALLOW_FROM: comma-separated addresses and CIDR ranges (e.g. the enrollment
   * server's) that may read the /support/asin endpoints without a token: the original's callers
   * send none. The client's address as TRUST_PROXY resolves it. Unset: none.
   */
  readonly asinEndpointsAllowFrom: readonly string[];
  /**
   * APP_CONFIG_DEFAULT: the name of the REX configuration /data/app-config.json serves to an
   * identifier nothing else matches (docs/app-config.md). Unset: such identifiers get 404, which
   * the extension takes as "not a valid identifier".
   */
  readonly appConfigDefault: string | undefined;
  /**
   * APP_CONFIG_RATE_PER_MINUTE: requests to /data/app-config.json one client address may make per
   * minute (per web process); beyond it 429. The endpoint says which identifiers are valid, so it
   * must not be asked millions of times. Default 60. 0 turns the limit off.
   */
  readonly appConfigRatePerMinute: number;
}

/** TRUST_PROXY: false, a number of proxies in front, or the proxies' addresses and CIDRs. */
export type TrustProxy = false | number | readonly string[];

const PROXY_ADDRESS_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** An IP address, a CIDR (address/prefix length), or one of proxy-addr's names for ranges. */
function isProxyAddress(entry: string): boolean {
  return PROXY_ADDRESS_NAMES.includes(entry) || isAddressOrRange(entry);
}

/** An IP address or a CIDR (address/prefix length). */
function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = net.isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

const KEEPA_DOMAINS: Record<string, number> = { US: 1, GB: 2, UK: 2, DE: 3, FR: 4, JP: 5, CA: 6, IT: 8, ES: 9, IN: 10, MX: 11 };

export const STATUS_CHECKS = ['upload-overdue', 'automated-browser', 'client-backlog'] as const;

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** DATA_QUALITY_POINTS_PER_MINUTE: `N` and `type=N` entries, comma-separated. */
function pointsPerMinute(raw: string | undefined, problems: string[]): Config['dataQualityPointsPerMinute'] {
  const limits = { default: 1000, byType: {} as Record<string, number> };
  for (const entry of (raw ?? '').split(',').map((t) => t.trim()).filter(Boolean)) {
    const [type, value] = entry.includes('=') ? entry.split('=', 2).map((t) => t.trim()) : [undefined, entry];
    const limit = Number(value);
    if (!Number.isInteger(limit) || limit < 1 || type === '') {
      problems.push(`DATA_QUALITY_POINTS_PER_MINUTE must be a number and type=number entries, comma-separated (got "${entry}")`);
    } else if (type === undefined) limits.default = limit;
    else limits.byType[type] = limit;
  }
  return limits;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string) => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return false;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return false;
  };
  const key = (name: string) => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const decoded = decodeKey(raw);
    if (!decoded) problems.push(`${name} must be the base64 of a 32-byte key`);
    return decoded;
  };

  const databaseUrl = text('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const otherDatabaseUrl = (name: string) => {
    const url = text(name);
    if (url === undefined) return undefined;
    if (!/^postgres(ql)?:\/\//.test(url)) problems.push(`${name} must start with postgres:// or postgresql://`);
    else if (!databaseUrl) problems.push(`${name} needs DATABASE_URL (it is another way to the same database)`);
    return url;
  };
  const databaseDirectUrl = otherDatabaseUrl('DATABASE_DIRECT_URL');
  const databaseReadUrl = otherDatabaseUrl('DATABASE_READ_URL');
  const logLevel = text('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const list = (raw: string | undefined) => (raw ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const timeZone = text('TIME_ZONE') ?? 'UTC';
  if (!isTimeZone(timeZone)) problems.push(`TIME_ZONE must be an IANA time zone name such as Europe/Berlin (got "${timeZone}")`);
  const alertDigestTime = text('ALERT_DIGEST_TIME') ?? '08:00';
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(alertDigestTime)) problems.push(`ALERT_DIGEST_TIME must be HH:MM (got "${alertDigestTime}")`);
  const nightlyExportTime = text('NIGHTLY_EXPORT_TIME') ?? '09:30';
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(nightlyExportTime)) problems.push(`NIGHTLY_EXPORT_TIME must be HH:MM (got "${nightlyExportTime}")`);
  const port = int('PORT', 8000, 0, 65535);
  const publicUrl = (text('PUBLIC_URL') ?? `http://${os.hostname()}:${port}`).replace(/\/+$/, '');
  if (!URL.canParse(publicUrl) || !/^https?:\/\//.test(publicUrl)) problems.push(`PUBLIC_URL must be an http:// or https:// address (got "${publicUrl}")`);
  const dataDir = path.resolve(text('DATA_DIR') ?? 'data');
  const backupIntervalMinutes = int('BACKUP_INTERVAL_MINUTES', 60, 5);
  const archiveAfterMonths = text('ARCHIVE_AFTER_MONTHS') === undefined ? undefined : int('ARCHIVE_AFTER_MONTHS', 0, 1, 1200);
  if (archiveAfterMonths !== undefined && !text('ARCHIVE_DIR') && !text('ARCHIVE_S3_BUCKET')) problems.push('ARCHIVE_AFTER_MONTHS needs ARCHIVE_DIR or ARCHIVE_S3_BUCKET: where the archived months go');
  if (text('ARCHIVE_DIR') && text('ARCHIVE_S3_BUCKET')) problems.push('Set ARCHIVE_DIR or ARCHIVE_S3_BUCKET, not both: archived months go to one place');
  const keepaApiUrl = (text('KEEPA_API_URL') ?? 'https://api.keepa.com').replace(/\/+$/, '');
  if (!URL.canParse(keepaApiUrl)) problems.push(`KEEPA_API_URL must be a URL (got "${keepaApiUrl}")`);
  const domainText = (text('KEEPA_DOMAIN') ?? '1').toUpperCase();
  const keepaDomain = KEEPA_DOMAINS[domainText] ?? Number(domainText);
  if (!Object.values(KEEPA_DOMAINS).includes(keepaDomain)) problems.push(`KEEPA_DOMAIN must be one of ${Object.keys(KEEPA_DOMAINS).join(', ')} or its Keepa number (got "${domainText}")`);
  const smtpUrl = text('SMTP_URL');
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) problems.push('SMTP_URL must start with smtp:// or smtps://');
  const trustProxy = ((): TrustProxy => {
    const raw = text('TRUST_PROXY');
    const lower = raw?.toLowerCase();
    if (lower === undefined || ['0', 'false', 'no', 'off'].includes(lower)) return false;
    if (['true', 'yes', 'on'].includes(lower)) return 1;
    if (/^\d+$/.test(lower)) {
      if (Number(lower) > 20) problems.push(`TRUST_PROXY: ${lower} proxies in front is not plausible (at most 20)`);
      return Math.min(Number(lower), 20);
    }
    const entries = list(raw);
    const bad = entries.filter((entry) => !isProxyAddress(entry));
    if (bad.length > 0) problems.push(`TRUST_PROXY must be true, false, a number of proxies or proxy addresses/CIDRs (not "${bad.join('", "')}")`);
    return entries;
  })();
  const asinEndpointsAllowFrom = list(text('ASIN_ENDPOINTS_ALLOW_FROM'));
  const badAllowed = asinEndpointsAllowFrom.filter((entry) => !isAddressOrRange(entry));
  if (badAllowed.length > 0) problems.push(`ASIN_ENDPOINTS_ALLOW_FROM must be IP addresses or CIDR ranges (not "${badAllowed.join('", "')}")`);
  const enabledChecks = text('ENABLED_CHECKS') === undefined ? [...STATUS_CHECKS] : list(text('ENABLED_CHECKS'));
  for (const check of enabledChecks) {
    if (!(STATUS_CHECKS as readonly string[]).includes(check)) problems.push(`ENABLED_CHECKS: unknown check "${check}" (known: ${STATUS_CHECKS.join(', ')})`);
  }

  const maxInflatedBytes = int('MAX_INFLATED_BYTES', 64 * 1024 ** 2, 1024, 2 ** 31 - 1);
  const uploadTokensFor = (text('UPLOAD_TOKENS_FOR') ?? 'put').toLowerCase();
  if (uploadTokensFor !== 'put' && uploadTokensFor !== 'all') problems.push(`UPLOAD_TOKENS_FOR must be put or all (got "${uploadTokensFor}")`);

  const config: Config = {
    port,
    host: text('HOST') ?? '0.0.0.0',
    databaseUrl,
    databaseDirectUrl,
    databaseReadUrl,
    dataDir,
    serverSecretKey: key('PDK_SERVER_KEY'),
    clientPublicKey: key('PDK_CLIENT_KEY'),
    externalContentKey: key('PDK_EXTERNAL_CONTENT_SYMETRIC_KEY'),
    donationSources: (text('DONATION_SOURCES') ?? 'amazon,chatgpt').split(',').map((s) => s.trim()).filter(Boolean),
    donationPublicKey: key('DONATION_PUBLIC_KEY'),
    donationSecretKey: key('DONATION_SECRET_KEY'),
    donationHashKey: key('DONATION_HASH_KEY'),
    contentPublicKey: key('PDK_EXTERNAL_CONTENT_PUBLIC_KEY'),
    donationMaxFileBytes: int('DONATION_MAX_FILE_MB', 100, 1, 2048) * 1024 * 1024,
    donationKeepFiles: bool('DONATION_KEEP_FILES'),
    donationReviewHours: int('DONATION_REVIEW_HOURS', 72, 1, 24 * 365),
    backupKey: key(text('BACKUP_KEY') === undefined && text('PDK_BACKUP_KEY') !== undefined ? 'PDK_BACKUP_KEY' : 'BACKUP_KEY'),
    maxBodyBytes: int('MAX_BODY_BYTES', 32 * 1024 ** 2, 1024, 2 ** 31 - 1),
    maxInflatedBytes,
    maxPointBytes: int('MAX_POINT_BYTES', Math.min(16 * 1024 ** 2, maxInflatedBytes), 1024, 2 ** 29),
    maxBundlePoints: int('MAX_BUNDLE_POINTS', 100_000, 1, 100_000_000),
    uploadMaxInflightBytes: int('UPLOAD_MAX_INFLIGHT_BYTES', 32 * 1024 ** 2, 1024),
    uploadRatePerMinute: int('UPLOAD_RATE_PER_MINUTE', 3_000, 0),
    uploadBytesPerMinute: int('UPLOAD_BYTES_PER_MINUTE', 1024 ** 3, 0),
    erroredUploadsMaxBytes: int('ERRORED_UPLOADS_MAX_BYTES', 1024 ** 3, 0),
    spoolDir: path.resolve(text('SPOOL_DIR') ?? path.join(dataDir, 'spool')),
    spoolMaxBytes: int('SPOOL_MAX_BYTES', 2 * 1024 ** 3, 0),
    uploadDbTimeoutMs: int('UPLOAD_DB_TIMEOUT_MS', 2_000, 50, 600_000),
    uploadsDisabled: bool('UPLOADS_DISABLED'),
    uploadTokens: (text('UPLOAD_TOKENS') ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    uploadTokensFor: uploadTokensFor === 'all' ? 'all' : 'put',
    processBatchBundles: int('PROCESS_BATCH_BUNDLES', 200, 1, 10000),
    processMaxAttempts: int('PROCESS_MAX_ATTEMPTS', 3, 1, 100),
    workerConcurrency: int('WORKER_CONCURRENCY', 2, 1, 64),
    dbPoolSize: int('DB_POOL_SIZE', 20, 2, 1000),
    logLevel,
    timeZone,
    trustProxy,
    sessionHours: int('SESSION_HOURS', 12, 1, 24 * 365),
    sessionMaxHours: int('SESSION_MAX_HOURS', 24 * 7, 1, 24 * 365),
    apiTokenSeconds: text('API_TOKEN_HOURS') === undefined && text('PDK_TOKEN_LIFESPAN') !== undefined
      ? int('PDK_TOKEN_LIFESPAN', 24 * 3600, 60, 365 * 24 * 3600)
      : int('API_TOKEN_HOURS', 24, 1, 24 * 365) * 3600,
    metadataWindowDays: int('METADATA_WINDOW_DAYS', 60, 1, 3650),
    uploadWarningHours: int('UPLOAD_WARNING_HOURS', 4, 1, 24 * 365),
    uploadCriticalHours: int('UPLOAD_CRITICAL_HOURS', 24, 1, 24 * 365),
    clientBacklogPoints: int('CLIENT_BACKLOG_POINTS', 5000, 1),
    automatedRecentDays: int('AUTOMATED_RECENT_DAYS', 7, 1, 3650),
    dataQualityUaPatterns: list(text('DATA_QUALITY_UA_PATTERNS')),
    dataQualityTestIds: list(text('DATA_QUALITY_TEST_IDS') ?? 'dev-*,test*'),
    dataQualitySkewHours: int('DATA_QUALITY_SKEW_HOURS', 720, 1, 24 * 3650),
    dataQualityPointsPerMinute: pointsPerMinute(text('DATA_QUALITY_POINTS_PER_MINUTE'), problems),
    dataQualityDuplicateUploads: int('DATA_QUALITY_DUPLICATE_UPLOADS', 20, 1),
    dataQualityInterleaveMinutes: int('DATA_QUALITY_INTERLEAVE_MINUTES', 10, 1, 24 * 60),
    dataQualityInterleaveSwitches: int('DATA_QUALITY_INTERLEAVE_SWITCHES', 3, 1),
    enabledChecks,
    alertDigestRecipients: list(text('ALERT_DIGEST_RECIPIENTS') ?? text('PDK_ALERT_DIGEST_RECIPIENTS')),
    alertDigestTime,
    smtpUrl,
    emailFrom: text('EMAIL_FROM') ?? 'webmunk-dcs@localhost',
    metricsToken: text('METRICS_TOKEN'),
    pdkRequestKey: text('PDK_REQUEST_KEY'),
    jobsDisabled: bool('JOBS_DISABLED'),
    publicUrl,
    exportDir: path.resolve(text('EXPORT_DIR') ?? path.join(dataDir, 'exports')),
    exportS3Bucket: text('EXPORT_S3_BUCKET'),
    exportS3Prefix: text('EXPORT_S3_PREFIX') ?? '',
    exportS3ForcePathStyle: bool('EXPORT_S3_FORCE_PATH_STYLE'),
    backupDir: text('BACKUP_DIR') === undefined ? undefined : path.resolve(text('BACKUP_DIR')!),
    backupS3Bucket: text('BACKUP_S3_BUCKET'),
    backupS3Prefix: text('BACKUP_S3_PREFIX') ?? '',
    backupS3ForcePathStyle: bool('BACKUP_S3_FORCE_PATH_STYLE'),
    backupIntervalMinutes,
    backupMaxAgeMinutes: int('BACKUP_MAX_AGE_MINUTES', 2 * backupIntervalMinutes, 5),
    backupFileMegabytes: int('BACKUP_FILE_MB', 16, 1, 1024),
    bundleRetentionDays: text('BUNDLE_RETENTION_DAYS') === undefined ? undefined : int('BUNDLE_RETENTION_DAYS', 0, 1, 100_000),
    archiveAfterMonths,
    archiveDir: text('ARCHIVE_DIR') === undefined ? undefined : path.resolve(text('ARCHIVE_DIR')!),
    archiveS3: text('ARCHIVE_S3_BUCKET') === undefined ? undefined : { bucket: text('ARCHIVE_S3_BUCKET')!, prefix: text('ARCHIVE_S3_PREFIX') ?? '', forcePathStyle: bool('ARCHIVE_S3_FORCE_PATH_STYLE') },
    exportNotifyEmail: list(text('EXPORT_NOTIFY_EMAIL')),
    nightlyExport: text('NIGHTLY_EXPORT') === undefined ? true : bool('NIGHTLY_EXPORT'),
    nightlyExportTime,
    sourcesPerReportJob: int('SOURCES_PER_REPORT_JOB', int('PDK_SOURCES_PER_REPORT_JOB', 10, 1, 100_000), 1, 100_000),
    nightlyExportExclude: list(text('NIGHTLY_EXPORT_EXCLUDE') ?? text('WEBMUNK_EXCLUDE_NIGHTLY_EXPORT_USERS')),
    keepaApiKey: text('KEEPA_API_KEY'),
    keepaApiUrl,
    keepaDomain,
    asinLookupServers: list(text('ASIN_LOOKUP_SERVERS') ?? text('WEBMUNK_ASIN_LOOKUP_SERVERS')),
    asinPeerTokens: list(text('ASIN_PEER_TOKENS')),
    asinEndpointsPublic: bool('ASIN_ENDPOINTS_PUBLIC'),
    asinEndpointsAllowFrom,
    appConfigDefault: text('APP_CONFIG_DEFAULT'),
    appConfigRatePerMinute: int('APP_CONFIG_RATE_PER_MINUTE', 60, 0),
  };
  if (config.uploadWarningHours >= config.uploadCriticalHours) {
    problems.push('UPLOAD_WARNING_HOURS must be less than UPLOAD_CRITICAL_HOURS');
  }
  if (config.maxPointBytes > config.maxInflatedBytes) problems.push('MAX_POINT_BYTES must not be larger than MAX_INFLATED_BYTES');
  if (config.uploadTokensFor === 'all' && config.uploadTokens.length === 0) problems.push('UPLOAD_TOKENS_FOR=all needs UPLOAD_TOKENS');
  if (Boolean(config.serverSecretKey) !== Boolean(config.clientPublicKey)) {
    problems.push('PDK_SERVER_KEY and PDK_CLIENT_KEY must be set together (encrypted uploads need both)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
