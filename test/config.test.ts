/** loadConfig(env): defaults, parsing, and every problem reported in one ConfigError. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

/** The ConfigError loadConfig throws for `env` (fails the test if it does not throw one). */
function problemsOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const pair = nacl.box.keyPair();
const SECRET = Buffer.from(pair.secretKey).toString('base64');
const PUBLIC = Buffer.from(pair.publicKey).toString('base64');

describe('loadConfig', () => {
  it('has documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: path.resolve('data'),
      serverSecretKey: undefined,
      clientPublicKey: undefined,
      maxBodyBytes: 32 * 1024 * 1024,
      maxInflatedBytes: 64 * 1024 * 1024,
      maxPointBytes: 16 * 1024 * 1024,
      maxBundlePoints: 100_000,
      uploadMaxInflightBytes: 32 * 1024 * 1024,
      uploadRatePerMinute: 3000,
      uploadBytesPerMinute: 1024 ** 3,
      erroredUploadsMaxBytes: 1024 ** 3,
      uploadsDisabled: false,
      uploadTokens: [],
      uploadTokensFor: 'put',
      processBatchBundles: 200,
      processMaxAttempts: 3,
      workerConcurrency: 2,
      logLevel: 'info',
    });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(path.join(process.cwd(), 'data'));
    expect(Number.isInteger(config.dbPoolSize) && config.dbPoolSize >= 2).toBe(true);
  });

  it('treats blank values as unset', () => {
    const config = loadConfig({ PORT: '', DATA_DIR: '   ', DATABASE_URL: ' ', LOG_LEVEL: '', PDK_SERVER_KEY: '', PDK_CLIENT_KEY: '  ' });
    expect(config).toMatchObject({ port: 8000, dataDir: path.resolve('data'), databaseUrl: undefined, logLevel: 'info', serverSecretKey: undefined });
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://u:p@db.example:5433/dcs',
      DATA_DIR: 'var/dcs',
      MAX_BODY_BYTES: '2048',
      MAX_INFLATED_BYTES: '4096',
      MAX_POINT_BYTES: '3000',
      MAX_BUNDLE_POINTS: '12',
      UPLOAD_MAX_INFLIGHT_BYTES: '8192',
      UPLOAD_RATE_PER_MINUTE: '0',
      UPLOAD_BYTES_PER_MINUTE: '5000',
      ERRORED_UPLOADS_MAX_BYTES: '0',
      UPLOADS_DISABLED: 'Yes',
      UPLOAD_TOKENS: ' a1, b2 ,,c3 ',
      UPLOAD_TOKENS_FOR: 'All',
      PROCESS_BATCH_BUNDLES: '50',
      PROCESS_MAX_ATTEMPTS: '5',
      WORKER_CONCURRENCY: '4',
      DB_POOL_SIZE: '7',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      databaseUrl: 'postgresql://u:p@db.example:5433/dcs',
      dataDir: path.resolve('var/dcs'),
      maxBodyBytes: 2048,
      maxInflatedBytes: 4096,
      maxPointBytes: 3000,
      maxBundlePoints: 12,
      uploadMaxInflightBytes: 8192,
      uploadRatePerMinute: 0,
      uploadBytesPerMinute: 5000,
      erroredUploadsMaxBytes: 0,
      uploadsDisabled: true,
      uploadTokens: ['a1', 'b2', 'c3'],
      uploadTokensFor: 'all',
      processBatchBundles: 50,
      processMaxAttempts: 5,
      workerConcurrency: 4,
      dbPoolSize: 7,
      logLevel: 'debug',
    });
    expect(loadConfig({ DATA_DIR: '/srv/dcs-data/' }).dataDir).toBe('/srv/dcs-data');
    for (const off of ['0', 'false', 'NO', 'off']) expect(loadConfig({ UPLOADS_DISABLED: off }).uploadsDisabled).toBe(false);
    for (const on of ['1', 'true', 'on']) expect(loadConfig({ UPLOADS_DISABLED: on }).uploadsDisabled).toBe(true);
  });

  it('reads the export variables, with their defaults and the original names', () => {
    const defaults = loadConfig({ DATA_DIR: '/srv/dcs' });
    expect(defaults).toMatchObject({
      exportDir: '/srv/dcs/exports', exportS3Bucket: undefined, exportS3Prefix: '', exportS3ForcePathStyle: false,
      exportNotifyEmail: [], nightlyExport: true, nightlyExportTime: '09:30', sourcesPerReportJob: 10, nightlyExportExclude: [],
    });
    expect(defaults.publicUrl).toMatch(/^http:\/\/.+:8000$/);
    const set = loadConfig({
      PUBLIC_URL: 'https://data.example.org/', EXPORT_DIR: '/mnt/exports', EXPORT_S3_BUCKET: 'b', EXPORT_S3_PREFIX: 'p/q',
      EXPORT_S3_FORCE_PATH_STYLE: 'true', EXPORT_NOTIFY_EMAIL: 'a@x.org, b@x.org', NIGHTLY_EXPORT: 'false', NIGHTLY_EXPORT_TIME: '23:05',
      SOURCES_PER_REPORT_JOB: '25', NIGHTLY_EXPORT_EXCLUDE: 's1,s2',
    });
    expect(set).toMatchObject({
      publicUrl: 'https://data.example.org', exportDir: '/mnt/exports', exportS3Bucket: 'b', exportS3Prefix: 'p/q', exportS3ForcePathStyle: true,
      exportNotifyEmail: ['a@x.org', 'b@x.org'], nightlyExport: false, nightlyExportTime: '23:05', sourcesPerReportJob: 25, nightlyExportExclude: ['s1', 's2'],
    });
    const original = loadConfig({ PDK_SOURCES_PER_REPORT_JOB: '3', WEBMUNK_EXCLUDE_NIGHTLY_EXPORT_USERS: 'x' });
    expect(original).toMatchObject({ sourcesPerReportJob: 3, nightlyExportExclude: ['x'] });
    expect(() => loadConfig({ NIGHTLY_EXPORT_TIME: '9:30' })).toThrow(/NIGHTLY_EXPORT_TIME must be HH:MM/);
    expect(() => loadConfig({ PUBLIC_URL: 'data.example.org' })).toThrow(/PUBLIC_URL must be an http/);
    expect(() => loadConfig({ SOURCES_PER_REPORT_JOB: '0' })).toThrow(/SOURCES_PER_REPORT_JOB must be an integer/);
  });

  it('checks integer ranges', () => {
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
    for (const bad of ['65536', '-1', '80.5', '8e3x', 'abc']) {
      expect(problemsOf({ PORT: bad }).problems).toEqual([`PORT must be an integer between 0 and 65535 (got "${bad}")`]);
    }
    expect(problemsOf({ DB_POOL_SIZE: '1' }).problems[0]).toMatch(/^DB_POOL_SIZE must be an integer between 2 and/);
    expect(problemsOf({ MAX_BODY_BYTES: '100' }).problems[0]).toMatch(/^MAX_BODY_BYTES must be an integer between 1024 and/);
    expect(problemsOf({ UPLOAD_TOKENS_FOR: 'post' }).problems).toContain('UPLOAD_TOKENS_FOR must be put or all (got "post")');
    expect(problemsOf({ UPLOAD_TOKENS_FOR: 'all' }).problems).toContain('UPLOAD_TOKENS_FOR=all needs UPLOAD_TOKENS');
    expect(problemsOf({ MAX_POINT_BYTES: '70000', MAX_INFLATED_BYTES: '65536' }).problems).toContain('MAX_POINT_BYTES must not be larger than MAX_INFLATED_BYTES');
  });

  it('reports every problem together in one ConfigError', () => {
    const error = problemsOf({
      PORT: 'abc',
      DB_POOL_SIZE: '1',
      DATABASE_URL: 'mysql://localhost/dcs',
      LOG_LEVEL: 'loud',
      UPLOADS_DISABLED: 'maybe',
      WORKER_CONCURRENCY: '0',
      PDK_SERVER_KEY: 'not a key!',
    });
    const expected = [/^PORT /, /^DB_POOL_SIZE /, /^DATABASE_URL /, /^LOG_LEVEL /, /^UPLOADS_DISABLED /, /^WORKER_CONCURRENCY /, /^PDK_SERVER_KEY must be the base64/];
    for (const pattern of expected) expect(error.problems.some((p) => pattern.test(p)), `${pattern} in ${error.problems.join(' | ')}`).toBe(true);
    expect(error.name).toBe('ConfigError');
    for (const problem of error.problems) expect(error.message).toContain(problem);
    expect(error.message.startsWith('Invalid configuration:\n  - ')).toBe(true);
  });

  it('requires PDK_SERVER_KEY and PDK_CLIENT_KEY together', () => {
    expect(problemsOf({ PDK_SERVER_KEY: SECRET }).problems).toEqual([
      'PDK_SERVER_KEY and PDK_CLIENT_KEY must be set together (encrypted uploads need both)',
    ]);
    expect(problemsOf({ PDK_CLIENT_KEY: PUBLIC }).problems).toHaveLength(1);
    const config = loadConfig({ PDK_SERVER_KEY: SECRET, PDK_CLIENT_KEY: PUBLIC });
    expect(Buffer.from(config.serverSecretKey!)).toEqual(Buffer.from(pair.secretKey));
    expect(Buffer.from(config.clientPublicKey!)).toEqual(Buffer.from(pair.publicKey));
  });

  it('accepts keys with embedded line breaks, and rejects keys of the wrong length', () => {
    const wrapped = (key: string, eol: string) => key.match(/.{1,16}/g)!.join(eol) + eol;
    for (const eol of ['\n', '\r\n']) {
      const config = loadConfig({ PDK_SERVER_KEY: wrapped(SECRET, eol), PDK_CLIENT_KEY: `\n${wrapped(PUBLIC, eol)}` });
      expect(Buffer.from(config.serverSecretKey!)).toEqual(Buffer.from(pair.secretKey));
      expect(Buffer.from(config.clientPublicKey!)).toEqual(Buffer.from(pair.publicKey));
    }
    const short = randomBytes(16).toString('base64');
    expect(problemsOf({ PDK_SERVER_KEY: SECRET, PDK_CLIENT_KEY: short }).problems).toContain('PDK_CLIENT_KEY must be the base64 of a 32-byte key');
  });

  it('reads TRUST_PROXY as off, a number of proxies (true: one), or proxy addresses and CIDRs', () => {
    const trust = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('0')).toBe(false);
    expect(trust('true')).toBe(1);
    expect(trust('ON')).toBe(1);
    expect(trust('2')).toBe(2);
    expect(trust('10.0.0.5, 10.1.0.0/16,::1, fd00::/8, loopback')).toEqual(['10.0.0.5', '10.1.0.0/16', '::1', 'fd00::/8', 'loopback']);
    expect(problemsOf({ TRUST_PROXY: '10.0.0.5, proxy.example, 10.0.0.0/33' }).problems)
      .toEqual(['TRUST_PROXY must be true, false, a number of proxies or proxy addresses/CIDRs (not "proxy.example", "10.0.0.0/33")']);
    expect(problemsOf({ TRUST_PROXY: '99' }).problems).toEqual(['TRUST_PROXY: 99 proxies in front is not plausible (at most 20)']);
  });

  it('reads ASIN_ENDPOINTS_ALLOW_FROM as addresses and CIDR ranges, and refuses anything else', () => {
    expect(loadConfig({}).asinEndpointsAllowFrom).toEqual([]);
    expect(loadConfig({ ASIN_ENDPOINTS_ALLOW_FROM: '203.0.113.7, 10.0.0.0/8,2001:db8::/32' }).asinEndpointsAllowFrom).toEqual(['203.0.113.7', '10.0.0.0/8', '2001:db8::/32']);
    expect(problemsOf({ ASIN_ENDPOINTS_ALLOW_FROM: 'enroll.example.org, 10.0.0.0/40, loopback' }).problems)
      .toEqual(['ASIN_ENDPOINTS_ALLOW_FROM must be IP addresses or CIDR ranges (not "enroll.example.org", "10.0.0.0/40", "loopback")']);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(8000);
  });
});
