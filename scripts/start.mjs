#!/usr/bin/env node
// `npm start`: runs the compiled JavaScript in dist/ (less memory and CPU than compiling on the
// fly with tsx), building it first when it is missing or older than the sources, so
// `npm install && npm start` still does everything. `npm run dev` runs the TypeScript directly.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.built');

/** The newest modification time among the sources the build reads. */
function newestSource(dir, newest = 0) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) newest = newestSource(p, newest);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

export function buildIfStale({ quiet = false } = {}) {
  const sources = Math.max(newestSource(join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
  if (existsSync(stamp) && existsSync(join(root, 'dist', 'server.js')) && statSync(stamp).mtimeMs >= sources) return;
  if (!quiet) console.log('Compiling the server (src/ → dist/)…');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('The build failed (see above); `npm run dev` runs the sources without building.');
    process.exit(1);
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  buildIfStale();
  await import('../dist/server.js');
}
