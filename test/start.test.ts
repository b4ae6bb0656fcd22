// `npm start` runs compiled JavaScript: scripts/start.mjs builds dist/ when it is missing or older
// than the sources, then starts the server from it (migrations are found from dist/ too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPostgres } from './helpers/app.js';

const root = new URL('..', import.meta.url).pathname;

test('the compiled server starts, migrates a fresh database and answers', { skip: onPostgres() && 'runs once, on PGlite', timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'karigar-start-'));
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, [join(root, 'scripts/start.mjs'), '--role=api'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    let ready: any;
    const until = Date.now() + 240_000;
    while (!ready && Date.now() < until) {
      assert.equal(child.exitCode, null, `the server exited: ${stderr}`);
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => (r.ok ? r.json() : undefined), () => undefined);
      if (!ready) await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(ready, { status: 'ready', database: 'pglite' });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
