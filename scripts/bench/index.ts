// `npm run bench [section ...]`: every section on the embedded PGlite, then on PostgreSQL when
// BENCH_DATABASE_URL is set (scratch databases are created there and dropped), and one table of
// figures beside their references and ratios. Sections: see SECTIONS below.
import os from 'node:os';
import type { Row, Section, Target } from './types.js';
import { send } from './send.js';
import { ingest } from './ingest.js';
import { drain } from './drain.js';
import { crash } from './crash.js';

const SECTIONS: Section[] = [ingest, drain, send, crash];

const only = process.argv.slice(2);
const sections = only.length ? SECTIONS.filter((s) => only.includes(s.name)) : SECTIONS;
if (!sections.length) {
  console.error(`unknown section: ${only.join(' ')} (have: ${SECTIONS.map((s) => s.name).join(', ')})`);
  process.exit(2);
}
const targets: Target[] = [{ kind: 'pglite', label: 'PGlite' }];
const url = process.env.BENCH_DATABASE_URL;
if (url) targets.push({ kind: 'postgres', url, label: 'PostgreSQL' });
else console.log('(set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to measure on PostgreSQL too)');
// BENCH_ONLY=pglite|postgres: one database only (to look into one figure).
if (process.env.BENCH_ONLY) targets.splice(0, targets.length, ...targets.filter((t) => t.kind === process.env.BENCH_ONLY));

const results: (Row & { db: string; section: string })[] = [];
for (const target of targets) {
  for (const s of sections) {
    console.log(`\n== ${s.name} on ${target.label}: ${s.about}`);
    try {
      for (const row of await s.run(target)) {
        results.push({ ...row, db: target.label, section: s.name });
        console.log(`   ${row.measure}: ${row.karigar}${row.reference ? ` (reference ${row.reference}${row.ratio ? `, ${row.ratio}` : ''})` : ''}`);
      }
    } catch (err) {
      console.error(`   ${s.name} failed:`, err);
      results.push({ db: target.label, section: s.name, measure: 'failed', karigar: String((err as Error).message ?? err), ok: false });
    }
  }
}

const cpu = os.cpus();
console.log(`\n${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| database | measure | Karigar | least possible | ratio | target | met |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.db} | ${r.measure} | ${r.karigar} | ${r.reference ?? ''} | ${r.ratio ?? ''} | ${r.target ?? ''} | ${r.ok === undefined ? '' : r.ok ? 'yes' : '**no**'} |`);
}
process.exit(results.some((r) => r.measure === 'failed') ? 1 : 0);
