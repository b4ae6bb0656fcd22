// The one reader of process.env. Every setting is checked at boot; a bad value stops the process
// with the full list of bad keys rather than failing later on first use.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Prepare hot statements on each PostgreSQL connection (off for PgBouncer before 1.21 in transaction mode). */
  databasePreparedStatements: boolean;
  jwtSecret: Buffer;
  /** The secret before the last rotation: its tokens are still accepted until they expire. */
  jwtPreviousSecret: Buffer | undefined;
  secretsKey: Buffer;
  /** Where secretsKey was read from when it was generated into DATA_DIR (undefined: SECRETS_KEY). */
  secretsKeyFile: string | undefined;
  /** NEW_SECRETS_KEY: the key `npm run rotate-secrets-key` re-encrypts channel secrets under. */
  newSecretsKey: Buffer | undefined;
  /** Fastify's trustProxy: whether (and which) X-Forwarded-For gives the client's address. */
  trustProxy: boolean | string[];
  /** Wrong passwords one client address may send per 15 minutes (across all emails). */
  loginAttemptsPerAddress: number;
  /** Sign-ups one client address may try per hour. */
  registrationsPerAddress: number;
  publicBaseUrl: string;
  metaGraphApiUrl: string;
  twilioApiUrl: string;
  telegramApiUrl: string;
  logLevel: string;
  tokenTtlSeconds: number;
  /** First retry delay of a failed send; doubles per attempt, with jitter. */
  sendRetryBaseMs: number;
  /** The rate cap's slack per sliding second for arrival jitter (see notifications/pace.ts). */
  sendJitterMarginMs: number;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function isUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A 32-byte key given as 64 hex characters or base64. */
export function parseKey(v: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  const b = Buffer.from(v, 'base64');
  return b.length === 32 ? b : undefined;
}

/** Reads a key from DATA_DIR, generating it on first start so a fresh clone needs no set-up. */
function keyFile(dataDir: string, name: string): Buffer {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const key = parseKey(readFileSync(file, 'utf8').trim());
    if (key) return key;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600 });
  return key;
}

/** "true"/"false", or the proxies' addresses ("127.0.0.1,10.0.0.0/8"); undefined when malformed. */
function parseTrustProxy(v: string): boolean | string[] | undefined {
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  const list = v.split(',').map((a) => a.trim()).filter(Boolean);
  const valid = list.every((a) => {
    const [ip, bits, extra] = a.split('/');
    const kind = isIP(ip);
    return kind !== 0 && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (kind === 4 ? 32 : 128)));
  });
  return list.length && valid ? list : undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const str = (k: string, d: string) => (env[k] === undefined || env[k] === '' ? d : String(env[k]));

  const port = Number(str('PORT', '3000'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be a port number (got "${env.PORT}")`);
  const host = str('HOST', '127.0.0.1');
  const dataDir = resolve(str('DATA_DIR', './data'));
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  const preparedStatements = str('DATABASE_PREPARED_STATEMENTS', 'true').toLowerCase();
  if (!['true', 'false'].includes(preparedStatements)) problems.push(`DATABASE_PREPARED_STATEMENTS must be true or false (got "${env.DATABASE_PREPARED_STATEMENTS}")`);

  const urls: Record<string, string> = {
    PUBLIC_BASE_URL: str('PUBLIC_BASE_URL', `http://${host}:${port}`),
    META_GRAPH_API_URL: str('META_GRAPH_API_URL', 'https://graph.facebook.com/v21.0'),
    TWILIO_API_URL: str('TWILIO_API_URL', 'https://api.twilio.com'),
    TELEGRAM_API_URL: str('TELEGRAM_API_URL', 'https://api.telegram.org'),
  };
  for (const [k, v] of Object.entries(urls)) if (!isUrl(v)) problems.push(`${k} must be an http(s) URL (got "${v}")`);

  const logLevel = str('LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const ttl = Number(str('TOKEN_TTL_SECONDS', String(12 * 3600)));
  if (!Number.isInteger(ttl) || ttl <= 0) problems.push('TOKEN_TTL_SECONDS must be a positive integer');

  const retryBase = Number(str('SEND_RETRY_BASE_MS', '1000'));
  if (!Number.isInteger(retryBase) || retryBase < 1) problems.push('SEND_RETRY_BASE_MS must be a positive integer');

  const jitterMargin = Number(str('SEND_JITTER_MARGIN_MS', '20'));
  if (!Number.isFinite(jitterMargin) || jitterMargin < 0 || jitterMargin > 1000) problems.push('SEND_JITTER_MARGIN_MS must be a number of milliseconds from 0 to 1000');

  let secretsKey: Buffer | undefined;
  if (env.SECRETS_KEY) {
    secretsKey = parseKey(env.SECRETS_KEY);
    if (!secretsKey) problems.push('SECRETS_KEY must be 32 bytes as 64 hex characters or base64');
  }
  let newSecretsKey: Buffer | undefined;
  if (env.NEW_SECRETS_KEY) {
    newSecretsKey = parseKey(env.NEW_SECRETS_KEY);
    if (!newSecretsKey) problems.push('NEW_SECRETS_KEY must be 32 bytes as 64 hex characters or base64');
  }
  let jwtSecret: Buffer | undefined;
  if (env.JWT_SECRET) {
    jwtSecret = Buffer.from(env.JWT_SECRET, 'utf8');
    if (jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters');
  }
  let jwtPreviousSecret: Buffer | undefined;
  if (env.JWT_PREVIOUS_SECRET) {
    jwtPreviousSecret = Buffer.from(env.JWT_PREVIOUS_SECRET, 'utf8');
    if (jwtPreviousSecret.length < 32) problems.push('JWT_PREVIOUS_SECRET must be at least 32 characters');
    if (!env.JWT_SECRET) problems.push('JWT_PREVIOUS_SECRET needs JWT_SECRET (the new secret) set too');
    else if (env.JWT_PREVIOUS_SECRET === env.JWT_SECRET) problems.push('JWT_PREVIOUS_SECRET must differ from JWT_SECRET');
  }

  const trustProxy = parseTrustProxy(str('TRUST_PROXY', 'false'));
  if (trustProxy === undefined) problems.push('TRUST_PROXY must be true, false, or a comma-separated list of proxy addresses (CIDR allowed)');
  const limit = (k: string, d: number) => {
    const n = Number(str(k, String(d)));
    if (!Number.isInteger(n) || n < 1) problems.push(`${k} must be a positive integer`);
    return n;
  };
  const loginAttemptsPerAddress = limit('LOGIN_ATTEMPTS_PER_ADDRESS', 50);
  const registrationsPerAddress = limit('REGISTRATIONS_PER_ADDRESS', 20);

  if (problems.length) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    databaseUrl,
    databasePreparedStatements: preparedStatements === 'true',
    jwtSecret: jwtSecret ?? keyFile(dataDir, 'jwt-secret'),
    jwtPreviousSecret,
    secretsKey: secretsKey ?? keyFile(dataDir, 'secrets-key'),
    secretsKeyFile: secretsKey ? undefined : join(dataDir, 'secrets-key'),
    newSecretsKey,
    trustProxy: trustProxy!,
    loginAttemptsPerAddress,
    registrationsPerAddress,
    publicBaseUrl: urls.PUBLIC_BASE_URL.replace(/\/$/, ''),
    metaGraphApiUrl: urls.META_GRAPH_API_URL.replace(/\/$/, ''),
    twilioApiUrl: urls.TWILIO_API_URL.replace(/\/$/, ''),
    telegramApiUrl: urls.TELEGRAM_API_URL.replace(/\/$/, ''),
    logLevel,
    tokenTtlSeconds: ttl,
    sendRetryBaseMs: retryBase,
    sendJitterMarginMs: jitterMargin,
  };
}
