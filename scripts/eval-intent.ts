// Evaluates intent detection on the labelled set in src/modules/social/intent/eval-set.json and
// compares it with the seed's bare keyword rules.
//
//   tsx scripts/eval-intent.ts                 all splits (tune / holdout / all)
//   tsx scripts/eval-intent.ts --split tune    one split only (use this while tuning: the holdout
//                                              split must not be looked at until the end)
//   tsx scripts/eval-intent.ts --errors        also list the misread messages of the split(s) shown
//
// Always exits 0: it reports, it does not gate.

import { readFileSync } from 'node:fs';
import { detectIntent, type CatalogEntry, type Intent, type IntentResult } from '../src/modules/social/intent/intent.js';

interface LabelledItem {
  name: string;
  quantity: number;
}
interface Labelled {
  text: string;
  intent: Intent;
  items?: LabelledItem[];
  split: 'tune' | 'holdout';
}
interface EvalSet {
  catalog: { name: string; aliases?: string[] }[];
  messages: Labelled[];
}

const INTENTS: Intent[] = ['order', 'confirm', 'decline', 'opt_out', 'opt_in', 'other'];

const set = JSON.parse(
  readFileSync(new URL('../src/modules/social/intent/eval-set.json', import.meta.url), 'utf8'),
) as EvalSet;
const catalog: CatalogEntry[] = set.catalog.map((c, i) => ({ id: `p${i + 1}`, name: c.name, aliases: c.aliases }));

const args = process.argv.slice(2);
const splitArg = args.includes('--split') ? args[args.indexOf('--split') + 1] : undefined;
const showErrors = args.includes('--errors');

/**
 * The seed's rules, reproduced as written: lower-case substring search for the order keywords
 * (order/buy/purchase/want/need/book) and the confirmation keywords (yes/confirm/ok/proceed),
 * nothing else — no decline, no opt-out/in, no negation. The seed matched no products; to give its
 * item column something to score, a catalog name appearing verbatim counts once (quantity 1).
 */
function seedBaseline(text: string, products: readonly CatalogEntry[]): IntentResult {
  const t = text.toLowerCase();
  const order = ['order', 'buy', 'purchase', 'want', 'need', 'book'].some((k) => t.includes(k));
  const confirms = ['yes', 'confirm', 'ok', 'proceed'].some((k) => t.includes(k));
  const intent: Intent = order ? 'order' : confirms ? 'confirm' : 'other';
  const items = order
    ? products.filter((p) => t.includes(p.name.toLowerCase())).map((p) => ({ product_id: p.id, name: p.name, quantity: 1 }))
    : [];
  return { intent, confirms, items };
}

type Detector = (text: string, products: readonly CatalogEntry[]) => IntentResult;
const detectors: { label: string; run: Detector }[] = [
  { label: 'ours', run: detectIntent },
  { label: 'seed keywords', run: seedBaseline },
];

function itemsMatch(gold: readonly LabelledItem[], got: IntentResult['items']): boolean {
  const key = (name: string, q: number) => `${name}|${Math.round(q * 1000) / 1000}`;
  const a = gold.map((i) => key(i.name, i.quantity)).sort();
  const b = got.map((i) => key(i.name, i.quantity)).sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface Scored {
  m: Labelled;
  got: IntentResult;
  intentOk: boolean;
  itemsOk: boolean | null; // null: not a gold order
}

function score(run: Detector, messages: readonly Labelled[]): Scored[] {
  return messages.map((m) => {
    const got = run(m.text, catalog);
    return {
      m,
      got,
      intentOk: got.intent === m.intent,
      itemsOk: m.intent === 'order' ? itemsMatch(m.items ?? [], got.items) : null,
    };
  });
}

const pct = (ok: number, n: number) => (n ? `${((100 * ok) / n).toFixed(1)}%` : '-').padStart(6);
const frac = (ok: number, n: number) => `${pct(ok, n)} (${ok}/${n})`.padEnd(16);

const splits: { label: string; messages: Labelled[] }[] = [
  { label: 'tune', messages: set.messages.filter((m) => m.split === 'tune') },
  { label: 'holdout', messages: set.messages.filter((m) => m.split === 'holdout') },
  { label: 'all', messages: set.messages },
].filter((s) => !splitArg || s.label === splitArg);
if (!splits.length) {
  console.log(`unknown split "${splitArg}" (tune | holdout | all)`);
  process.exit(0);
}

const results = new Map<string, Map<string, Scored[]>>();
for (const d of detectors) {
  const bySplit = new Map<string, Scored[]>();
  for (const s of splits) bySplit.set(s.label, score(d.run, s.messages));
  results.set(d.label, bySplit);
}

console.log(`Intent evaluation — ${set.messages.length} labelled messages, catalog of ${catalog.length} products`);
console.log('intent = exact intent label; items = on messages labelled order, exact set of (product, quantity)\n');
const header = ['split', 'msgs', 'ours intent', 'seed intent', 'orders', 'ours items', 'seed items'];
const widths = [8, 5, 17, 17, 7, 17, 17];
const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' ').trimEnd();
console.log(row(header));
console.log(row(widths.map((w) => '-'.repeat(w))));
for (const s of splits) {
  const ours = results.get('ours')!.get(s.label)!;
  const seed = results.get('seed keywords')!.get(s.label)!;
  const orders = ours.filter((r) => r.itemsOk !== null);
  const seedOrders = seed.filter((r) => r.itemsOk !== null);
  console.log(
    row([
      s.label,
      String(s.messages.length),
      frac(ours.filter((r) => r.intentOk).length, ours.length),
      frac(seed.filter((r) => r.intentOk).length, seed.length),
      String(orders.length),
      frac(orders.filter((r) => r.itemsOk).length, orders.length),
      frac(seedOrders.filter((r) => r.itemsOk).length, seedOrders.length),
    ]),
  );
}

// Confusion summary on the widest split shown: rows = labelled intent, columns = predicted.
const widest = splits[splits.length - 1];
for (const d of detectors) {
  const scored = results.get(d.label)!.get(widest.label)!;
  console.log(`\nConfusion (${d.label}, ${widest.label}): rows labelled, columns predicted; recall at the right`);
  const w = 9;
  console.log(''.padEnd(w) + INTENTS.map((i) => i.padStart(w)).join('') + 'recall'.padStart(w + 1));
  for (const gold of INTENTS) {
    const rowItems = scored.filter((r) => r.m.intent === gold);
    if (!rowItems.length) continue;
    const cells = INTENTS.map((p) => {
      const n = rowItems.filter((r) => r.got.intent === p).length;
      return (n ? String(n) : '.').padStart(w);
    });
    const ok = rowItems.filter((r) => r.intentOk).length;
    console.log(gold.padEnd(w) + cells.join('') + pct(ok, rowItems.length).padStart(w + 1));
  }
}

if (showErrors) {
  const scored = results.get('ours')!.get(widest.label)!;
  const wrong = scored.filter((r) => !r.intentOk || r.itemsOk === false);
  console.log(`\nMisread by ours (${widest.label}): ${wrong.length}`);
  for (const r of wrong) {
    const items = r.got.items.map((i) => `${i.name}×${i.quantity}`).join(', ');
    const gold = (r.m.items ?? []).map((i) => `${i.name}×${i.quantity}`).join(', ');
    const what = r.intentOk ? `items [${items}] expected [${gold}]` : `${r.got.intent} expected ${r.m.intent}` + (items ? ` [${items}]` : '');
    console.log(`  ${JSON.stringify(r.m.text)} → ${what}`);
  }
}

process.exit(0);
