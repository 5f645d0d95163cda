import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Tally's one typed configuration, read from the environment once and validated at boot.
 * No other module reads process.env. Every setting is optional: with none, Tally runs on the
 * embedded PostgreSQL under ./data on port 3000.
 */
export interface TallyConfig {
  /** HTTP port of the API (PORT, default 3000). */
  port: number;
  /** Folder of the embedded PostgreSQL and local secrets (DATA_DIR, default ./data). */
  dataDir: string;
  /** A PostgreSQL server instead of the embedded one (DATABASE_URL). */
  databaseUrl?: string;
  /** Distributed background work through BullMQ (REDIS_URL). */
  redisUrl?: string;
  /** Key prefix in Redis for queues and shared rate limits (REDIS_PREFIX, default tally). */
  redisPrefix: string;
  /** PostgreSQL connections per API process (DB_POOL_MAX, default 20; mind max_connections × processes). */
  dbPoolMax: number;
  /** Background jobs one process runs at once (JOB_CONCURRENCY, default 4). */
  jobConcurrency: number;
  /** Bearer token required by GET /metrics (METRICS_TOKEN; unset = /metrics open, e.g. behind a private network). */
  metricsToken?: string;
  /** Serve /metrics on this separate port instead of the API port (METRICS_PORT, 0 = off; apps/worker uses it too). */
  metricsPort: number;
  /** Signing secret for access tokens (JWT_SECRET; generated and kept in DATA_DIR when absent). */
  jwtSecret: string;
  jwtIssuer: string;
  jwtAudience: string;
  /** Lifetime of an access token in seconds (JWT_ACCESS_TTL, default 900). */
  accessTokenTtlSeconds: number;
  /** Lifetime of a refresh token in seconds (JWT_REFRESH_TTL, default 30 days). */
  refreshTokenTtlSeconds: number;
  /** First admin, created at boot when both are set (ADMIN_EMAIL, ADMIN_PASSWORD). */
  adminEmail?: string;
  adminPassword?: string;
  /** How often the in-process background sweeps run (SWEEP_INTERVAL_MS, default 5000; 0 = off). */
  sweepIntervalMs: number;
  /** Run background sweeps inside the API process (RUN_BACKGROUND, default true). */
  runBackground: boolean;
  /** Largest accepted request body (BODY_LIMIT, default 50mb; imports stream above this). */
  bodyLimit: string;
  /** Allowed browser origins, comma separated (CORS_ORIGINS; default: same origin only). */
  corsOrigins: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  stripeSecretKey?: string;
  stripeWebhookSecret?: string;
  stripeApiBase?: string;
  /** Timeout of one Stripe API request in ms (STRIPE_TIMEOUT_MS, default 20000). */
  stripeTimeoutMs: number;
  /** Platform fee in basis points of each reward and bonus (PLATFORM_FEE_BPS, default 2000 = 20%, 0..10000). */
  platformFeeBps: number;
  /** Smallest worker payable paid out, minor units (PAYOUT_MINIMUM_MINOR, default 500). */
  payoutMinimumMinor: number;
  /** Where browsers reach Tally, for Stripe's return links (PUBLIC_URL, default http://localhost:PORT). */
  publicUrl: string;
  /** Server key that encrypts MTurk-API access key secrets (MTURK_KEY_SECRET; default: derived from JWT_SECRET). */
  mturkKeySecret?: string;
  /** Image hosts the image proxy may fetch from although they are on a private address (IMAGE_PROXY_ALLOW_HOSTS: host or host:port, comma separated). */
  imageProxyAllowHosts: string[];
  /** Failed logins allowed per account from one IP address in the window (LOGIN_MAX_FAILURES, default 5). */
  loginMaxFailures: number;
  /** Failed logins allowed per account from all addresses in the window (LOGIN_MAX_FAILURES_PER_ACCOUNT, default 20). */
  loginMaxFailuresPerAccount: number;
  /** Failed logins allowed per IP address, any account, in the window (LOGIN_MAX_FAILURES_PER_IP, default 50). */
  loginMaxFailuresPerIp: number;
  /** The window failed logins are counted in, seconds (LOGIN_FAILURE_WINDOW, default 900). */
  loginFailureWindowSeconds: number;
  /** Webhook hosts (host or host:port, comma separated) Tally may deliver to over plain http or on a private address: tests, local development (WEBHOOK_ALLOW_HOSTS; default none: https to public addresses only). */
  webhookAllowHosts: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and validates the configuration; throws ConfigError listing every problem at once. */
export function loadConfig(env: Env = process.env): TallyConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = env[name];
    if (!raw) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) problems.push(`${name} must use ${protocols.join(' or ')} (got ${u.protocol})`);
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };

  const dataDir = resolve(env.DATA_DIR || './data');
  const logLevel = (env.LOG_LEVEL || 'info') as TallyConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  if ((env.ADMIN_EMAIL && !env.ADMIN_PASSWORD) || (!env.ADMIN_EMAIL && env.ADMIN_PASSWORD)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (env.ADMIN_PASSWORD && env.ADMIN_PASSWORD.length < 10) problems.push('ADMIN_PASSWORD must have at least 10 characters');
  if (env.STRIPE_SECRET_KEY && !/^(sk|rk)_/.test(env.STRIPE_SECRET_KEY)) problems.push('STRIPE_SECRET_KEY must be a secret key (sk_... or rk_...)');
  if (env.STRIPE_WEBHOOK_SECRET && !env.STRIPE_WEBHOOK_SECRET.startsWith('whsec_')) problems.push('STRIPE_WEBHOOK_SECRET must start with whsec_');
  if (env.JWT_SECRET !== undefined && env.JWT_SECRET.length < 32) problems.push('JWT_SECRET must have at least 32 characters');

  const config: TallyConfig = {
    port: int('PORT', 3000, 0, 65535),
    dataDir,
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: env.REDIS_PREFIX || 'tally',
    jobConcurrency: int('JOB_CONCURRENCY', 4, 1, 64),
    dbPoolMax: int('DB_POOL_MAX', 20, 1, 1000),
    metricsToken: env.METRICS_TOKEN || undefined,
    metricsPort: int('METRICS_PORT', 0, 0, 65535),
    jwtSecret: env.JWT_SECRET || '',
    jwtIssuer: env.JWT_ISSUER || 'tally',
    jwtAudience: env.JWT_AUDIENCE || 'tally-api',
    accessTokenTtlSeconds: int('JWT_ACCESS_TTL', 900, 30, 86400),
    refreshTokenTtlSeconds: int('JWT_REFRESH_TTL', 30 * 86400, 300, 365 * 86400),
    adminEmail: env.ADMIN_EMAIL?.trim().toLowerCase() || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    sweepIntervalMs: int('SWEEP_INTERVAL_MS', 5000, 0, 3_600_000),
    runBackground: bool('RUN_BACKGROUND', true),
    bodyLimit: env.BODY_LIMIT || '50mb',
    corsOrigins: list(env.CORS_ORIGINS),
    logLevel,
    stripeSecretKey: env.STRIPE_SECRET_KEY || undefined,
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET || undefined,
    stripeApiBase: url('STRIPE_API_BASE', ['http:', 'https:']),
    stripeTimeoutMs: int('STRIPE_TIMEOUT_MS', 20000, 100, 120000),
    platformFeeBps: int('PLATFORM_FEE_BPS', 2000, 0, 10000),
    payoutMinimumMinor: int('PAYOUT_MINIMUM_MINOR', 500, 1, 100_000_000),
    publicUrl: '',
    mturkKeySecret: env.MTURK_KEY_SECRET || undefined,
    imageProxyAllowHosts: list(env.IMAGE_PROXY_ALLOW_HOSTS),
    loginMaxFailures: int('LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginMaxFailuresPerAccount: int('LOGIN_MAX_FAILURES_PER_ACCOUNT', 20, 1, 100_000),
    loginMaxFailuresPerIp: int('LOGIN_MAX_FAILURES_PER_IP', 50, 1, 1_000_000),
    loginFailureWindowSeconds: int('LOGIN_FAILURE_WINDOW', 900, 1, 86400),
    webhookAllowHosts: list(env.WEBHOOK_ALLOW_HOSTS),
  };
  config.publicUrl = (url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${config.port}`).replace(/\/+$/, '');
  if (problems.length) throw new ConfigError(problems);
  if (!config.jwtSecret) config.jwtSecret = localSecret(dataDir, 'jwt-secret');
  return Object.freeze(config);
}

const list = (raw?: string) => (raw || '').split(',').map((s) => s.trim()).filter(Boolean);

/** A random secret kept in DATA_DIR so tokens survive a restart of a zero-setup install. */
function localSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** The configuration with secrets masked, for logs. */
export function describeConfig(config: TallyConfig): Record<string, unknown> {
  const mask = (v?: string) => (v ? '***' : undefined);
  return {
    ...config,
    databaseUrl: config.databaseUrl?.replace(/\/\/([^:@/]+):[^@]*@/, '//$1:***@'),
    jwtSecret: '***',
    metricsToken: mask(config.metricsToken),
    redisUrl: config.redisUrl?.replace(/\/\/([^:@/]*):[^@]*@/, '//$1:***@'),
    adminPassword: mask(config.adminPassword),
    stripeSecretKey: mask(config.stripeSecretKey),
    stripeWebhookSecret: mask(config.stripeWebhookSecret),
    mturkKeySecret: mask(config.mturkKeySecret),
  };
}
