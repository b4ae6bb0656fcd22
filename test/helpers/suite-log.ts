// The whole suite's log, kept for one check: `npm test` (scripts/test.mjs) sets SUITE_LOG_DIR,
// every app a test builds then logs at debug level into a file there, and every secret a test
// hands the API (passwords, channel keys and secrets, verify tokens) or gets back (access tokens)
// is noted beside it. After the run, scripts/test.mjs reads both and fails if any noted secret,
// password hash or token appears in the log. Without SUITE_LOG_DIR nothing is written.
import { appendFileSync, createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const dir = process.env.SUITE_LOG_DIR;
const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
let stream: WriteStream | undefined;

/** The log file's stream for this test process, or undefined when the suite log is off. */
export function suiteLogStream(): WriteStream | undefined {
  if (!dir) return undefined;
  stream ??= createWriteStream(join(dir, `${id}.log`), { flags: 'a' });
  return stream;
}

/** A logger for the background runtime that writes to the suite log (JSON lines, like pino). */
export function suiteRuntimeLog() {
  const s = suiteLogStream();
  if (!s) return undefined;
  const line = (level: number) => (obj: unknown, msg?: string) => {
    const fields = typeof obj === 'string' ? { msg: obj } : { ...(obj as object), msg };
    s.write(`${JSON.stringify({ level, time: Date.now(), source: 'runtime', ...fields })}\n`);
  };
  return { info: line(30), warn: line(40), error: line(50) };
}

const SECRET_KEYS = new Set(['password', 'current_password', 'new_password', 'api_key', 'api_secret', 'webhook_secret', 'access_token', 'auth_token', 'verify_token', 'token', 'bot_token', 'app_secret']);
const seen = new Set<string>();

/** Notes the secrets in a request or response body (values of secret-named keys, at any depth). */
export function noteSecrets(body: unknown) {
  if (!dir || body === null || typeof body !== 'object') return;
  const found: string[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 6 || v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      // Short values ('tok', '1') would match innocent text; the secrets worth checking are longer.
      if (SECRET_KEYS.has(k) && typeof x === 'string' && x.length >= 8 && !seen.has(x)) {
        seen.add(x);
        found.push(x);
      } else walk(x, depth + 1);
    }
  };
  walk(body, 0);
  if (found.length) appendFileSync(join(dir, `${id}.secrets`), found.map((s) => `${JSON.stringify(s)}\n`).join(''));
}
