#!/usr/bin/env node
// `npm test`: runs every *.test.ts twice — on the embedded PGlite, then on a PostgreSQL server
// (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) when one answers. Without a server the
// PostgreSQL run is skipped and says so, unless REQUIRE_POSTGRES=1 (CI), where that is a failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { checkSuiteLog } from './suite-log-check.mjs';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

let files = [...findTests(join(root, 'src')), ...findTests(join(root, 'test'))].sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}

async function serverUp(url) {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (err) {
    return err.message;
  } finally {
    await c.end().catch(() => {});
  }
}

function run(label, env) {
  console.log(`\n=== ${label} ===`);
  const tapDir = mkdtempSync(join(tmpdir(), 'karigar-tap-'));
  const tap = join(tapDir, 'result.tap');
  // Every app the tests build logs here at debug level; the log is checked for secrets below.
  const logDir = mkdtempSync(join(tmpdir(), 'karigar-suite-log-'));
  const r = spawnSync(process.execPath, [
    '--import', 'tsx', '--test', '--test-concurrency=2',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ], { cwd: root, stdio: 'inherit', env: { ...process.env, ...env, SUITE_LOG_DIR: logDir } });
  let pass = 0, fail = 0, failures = [];
  try {
    const text = readFileSync(tap, 'utf8');
    pass = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
    fail = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0);
    failures = failedBlocks(text);
  } catch { /* no report: counted as a failure below */ }
  rmSync(tapDir, { recursive: true, force: true });
  if (r.status !== 0 && fail === 0) fail = 1;
  const log = checkSuiteLog(logDir);
  console.log(`${label}: the whole run's log, ${log.lines} lines (${(log.bytes / 2 ** 20).toFixed(1)} MB), checked for ${log.secrets} secrets the tests used, password hashes and access tokens: ${log.findings.length ? `${log.findings.length} FOUND` : 'none found'}`);
  for (const f of log.findings.slice(0, 20)) console.log(`  ${f.what} in ${join(logDir, f.file)}: ${f.sample}`);
  if (log.findings.length) fail++;
  else rmSync(logDir, { recursive: true, force: true });
  console.log(`${label}: ${pass} passed, ${fail} failed`);
  return { label, pass, fail, failures };
}

/**
 * Each failed test's TAP block (name, error, the first lines of its stack), bounded: printed again
 * at the very end of the run, so a log cut to its head and tail still says what failed and why.
 */
function failedBlocks(tap) {
  const lines = tap.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const block = [m[2]];
    for (let j = i + 1; j < lines.length && lines[j] !== `${m[1]}  ...`; j++) block.push(lines[j]);
    out.push(block.slice(0, 40).join('\n'));
  }
  return out;
}

const results = [];
results.push(run('PGlite (embedded)', { TEST_DATABASE_URL: '' }));

const url = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const up = await serverUp(url);
let skipped = 0;
if (up === true) {
  results.push(run(`PostgreSQL (${url.replace(/\/\/[^@]*@/, '//')})`, { TEST_DATABASE_URL: url }));
} else if (process.env.REQUIRE_POSTGRES === '1') {
  console.log(`\nPostgreSQL at ${url} is required (REQUIRE_POSTGRES=1) but did not answer: ${up}`);
  results.push({ pass: 0, fail: 1 });
} else {
  skipped = 1;
  console.log(`\nSkipped the PostgreSQL run: no server answered at ${url} (${up}). Set TEST_DATABASE_URL to run it.`);
}

for (const r of results) {
  for (const f of r.failures ?? []) console.log(`\n--- failed in ${r.label}: ${f}`);
}
const pass = results.reduce((a, r) => a + r.pass, 0);
const fail = results.reduce((a, r) => a + r.fail, 0);
console.log(`\n${pass} passed, ${fail} failed${skipped ? ', 1 skipped' : ''}`);
process.exit(fail ? 1 : 0);
