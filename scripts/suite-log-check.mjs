// Reads the log a whole test run wrote (SUITE_LOG_DIR: see test/helpers/suite-log.ts) and the
// secrets its tests noted, and reports any that reached the log: a noted secret (a password, a
// channel key or secret, a verify token, an access token), a password hash, or anything shaped
// like a signed access token. Findings are shown redacted.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SHAPES = [
  ['password hash', /scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$/],
  ['access token', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/],
];

const redact = (s) => `${s.slice(0, 3)}…(${s.length} chars)`;

/** { lines, bytes, secrets, findings: [{ file, what, sample }] } */
export function checkSuiteLog(dir) {
  const names = readdirSync(dir);
  const secrets = new Set();
  for (const n of names.filter((n) => n.endsWith('.secrets'))) {
    for (const line of readFileSync(join(dir, n), 'utf8').split('\n')) if (line) secrets.add(JSON.parse(line));
  }
  // In a JSON log line a secret may appear escaped.
  const needles = [...secrets].flatMap((s) => [...new Set([s, JSON.stringify(s).slice(1, -1)])].map((n) => [s, n]));
  const findings = [];
  let lines = 0, bytes = 0;
  for (const n of names.filter((n) => n.endsWith('.log'))) {
    const text = readFileSync(join(dir, n), 'utf8');
    bytes += text.length;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    for (const [what, re] of SHAPES) {
      const m = re.exec(text);
      if (m) findings.push({ file: n, what, sample: redact(m[0]) });
    }
    for (const [secret, needle] of needles) {
      if (text.includes(needle)) findings.push({ file: n, what: 'a secret a test used', sample: redact(secret) });
    }
  }
  return { lines, bytes, secrets: secrets.size, findings };
}
