// The check that runs over the whole suite's log (scripts/suite-log-check.mjs) finds what it
// looks for: noted secrets (raw or JSON-escaped), password hashes and access tokens.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JavaScript module without types
import { checkSuiteLog } from '../scripts/suite-log-check.mjs';
import { hashPassword, signToken } from '../src/platform/auth.js';

const made: string[] = [];
after(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function dirWith(log: string, secrets: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'suite-log-check-'));
  made.push(dir);
  writeFileSync(join(dir, '1.log'), log);
  writeFileSync(join(dir, '1.secrets'), secrets.map((s) => `${JSON.stringify(s)}\n`).join(''));
  return dir;
}

test('the suite-log check finds a noted secret, raw or JSON-escaped, a password hash and an access token', async () => {
  const line = (o: object) => `${JSON.stringify({ level: 30, ...o })}\n`;
  const clean = line({ msg: 'request completed', url: '/api/v1/products' });
  assert.deepEqual(checkSuiteLog(dirWith(clean, ['correct horse', 'say "hi" now'])).findings, []);

  const token = signToken({ userId: 'u', businessId: 'b', role: 'admin' }, Buffer.alloc(32, 1), 60);
  const cases = [
    line({ msg: 'oops', body: { password: 'correct horse' } }),
    line({ msg: 'oops', text: 'say "hi" now' }),
    line({ err: { params: [await hashPassword('whatever')] } }),
    line({ headers: { authorization: `Bearer ${token}` } }),
  ];
  for (const bad of cases) {
    const r = checkSuiteLog(dirWith(clean + bad, ['correct horse', 'say "hi" now']));
    assert.equal(r.findings.length, 1, bad);
    assert.ok(!r.findings[0].sample.includes('horse') && !r.findings[0].sample.includes(token), 'findings are shown redacted');
  }
});
