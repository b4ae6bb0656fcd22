#!/usr/bin/env node
// `npm start` runs this first: builds the web console (web/ → web/dist) when its build is missing,
// so `npm install && npm start` still does everything. `--force` rebuilds (npm run build:web).
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const built = existsSync(new URL('../web/dist/index.html', import.meta.url));
if (built && !process.argv.includes('--force')) process.exit(0);
console.log(built ? 'Building the web console…' : 'The web console is not built yet: building it (web/ → web/dist)…');
const { build } = await import('vite');
await build({ root: `${root}web`, configFile: `${root}web/vite.config.ts`, logLevel: 'warn' });
console.log('Web console built.');
