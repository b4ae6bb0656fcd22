// The one reader of process.env. Every setting is checked at boot; a bad value stops the process
// with the full list of bad keys rather than failing later on first use.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  jwtSecret: Buffer;
  secretsKey: Buffer;
  publicBaseUrl: string;
  metaGraphApiUrl: string;
  twilioApiUrl: string;
  telegramApiUrl: string;
  logLevel: string;
  tokenTtlSeconds: number;
  /** First retry delay of a failed send; doubles per attempt, with jitter. */
  sendRetryBaseMs: number;
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const str = (k: string, d: string) => (env[k] === undefined || env[k] === '' ? d : String(env[k]));

  const port = Number(str('PORT', '3000'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be a port number (got "${env.PORT}")`);
  const host = str('HOST', '127.0.0.1');
  const dataDir = resolve(str('DATA_DIR', './data'));
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must start with postgres:// or postgresql://');

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

  let secretsKey: Buffer | undefined;
  if (env.SECRETS_KEY) {
    secretsKey = parseKey(env.SECRETS_KEY);
    if (!secretsKey) problems.push('SECRETS_KEY must be 32 bytes as 64 hex characters or base64');
  }
  let jwtSecret: Buffer | undefined;
  if (env.JWT_SECRET) {
    jwtSecret = Buffer.from(env.JWT_SECRET, 'utf8');
    if (jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters');
  }

  if (problems.length) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    databaseUrl,
    jwtSecret: jwtSecret ?? keyFile(dataDir, 'jwt-secret'),
    secretsKey: secretsKey ?? keyFile(dataDir, 'secrets-key'),
    publicBaseUrl: urls.PUBLIC_BASE_URL.replace(/\/$/, ''),
    metaGraphApiUrl: urls.META_GRAPH_API_URL.replace(/\/$/, ''),
    twilioApiUrl: urls.TWILIO_API_URL.replace(/\/$/, ''),
    telegramApiUrl: urls.TELEGRAM_API_URL.replace(/\/$/, ''),
    logLevel,
    tokenTtlSeconds: ttl,
    sendRetryBaseMs: retryBase,
  };
}
