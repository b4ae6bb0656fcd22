// Finding catalog products and their quantities in a tokenised message.
//
// Customers rarely type a product's catalog name exactly: "2 black forest" for "Black forest
// cake", "gulabjamun", "motichur laddu", "caks", "काजू कतली". A name matches when its distinctive
// words appear in order (each tolerant of typos and plurals); generic words such as "cake" or
// "box" may be left out but are never enough on their own, so "I need a cake" names no product.

import { PRODUCT_NEGATORS, WordList } from './lexicon.js';
import { editCost, isCommonWord, similar, singularKey, tokenize, type Token } from './text.js';

export interface CatalogEntry {
  id: string;
  name: string;
  aliases?: string[];
}

export interface ProductMatch {
  entry: CatalogEntry;
  /** Token span of the product name, [start, end). */
  start: number;
  end: number;
  quantity: number;
  /** The customer wrote the quantity (rather than it defaulting to 1). */
  explicitQuantity: boolean;
  /** Token indices of the quantity (number and unit words). */
  quantityTokens: number[];
  /** Excluded by a word right before it: "red velvet, not black forest". */
  negated: boolean;
  /** Other products the same words name just as well ("2 chocolate" with "Chocolate cake" and
   *  "Chocolate hamper"): the mention is unclear and must be asked about, never guessed. */
  rivals: CatalogEntry[];
}

// Words in catalog names that describe rather than identify ("Customised photo mug", "Diwali gift
// hamper"): a customer may leave them out, but they cannot identify a product on their own.
const GENERIC_NAME_WORDS = new Set(
  [
    'cake', 'box', 'pack', 'packet', 'hamper', 'gift', 'sweet', 'mithai', 'piece', 'combo', 'special', 'photo',
    'ladoo', 'laddu', 'laddoo', 'barfi', 'burfi',
    'custom', 'customised', 'customized', 'personalised', 'personalized', 'diwali', 'holi', 'rakhi', 'birthday',
    'anniversary', 'wedding', 'the', 'of', 'with', 'and', 'fresh', 'premium', 'classic', 'eggless', 'small',
    'large', 'mini', 'big',
  ].map((w) => singularKey(w)),
);
// Hindi/English joiners customers put inside a name: "besan ke ladoo", "kaju wali barfi".
const NAME_CONNECTORS = new WordList(['ka', 'ki', 'ke', 'wala', 'wali', 'wale', 'of'], false);

interface Variant {
  entry: CatalogEntry;
  keys: string[];
  generic: boolean[];
  /** Every word is generic ("Gift hamper"): then at least two must be present. */
  allGeneric: boolean;
}

// The index depends only on the catalog, which a business changes rarely: build it once per array.
const variantCache = new WeakMap<readonly CatalogEntry[], Variant[]>();

function variantsOf(catalog: readonly CatalogEntry[]): Variant[] {
  let variants = variantCache.get(catalog);
  if (!variants) {
    variants = buildVariants(catalog);
    variantCache.set(catalog, variants);
  }
  return variants;
}

const vocabularyCache = new WeakMap<readonly Variant[], Set<string>>();

/** Every word used in the catalog's names: such a word in a message is meant as itself. */
function vocabularyOf(variants: readonly Variant[]): Set<string> {
  let vocabulary = vocabularyCache.get(variants);
  if (!vocabulary) {
    vocabulary = new Set(variants.flatMap((v) => v.keys));
    vocabularyCache.set(variants, vocabulary);
  }
  return vocabulary;
}

function buildVariants(catalog: readonly CatalogEntry[]): Variant[] {
  const variants: Variant[] = [];
  for (const entry of catalog) {
    for (const name of [entry.name, ...(entry.aliases ?? [])]) {
      const keys = tokenize(name)
        .filter((t) => t.kind === 'word')
        .map((t) => singularKey(t.text));
      if (!keys.length) continue;
      const generic = keys.map((k) => GENERIC_NAME_WORDS.has(k));
      variants.push({ entry, keys, generic, allGeneric: generic.every(Boolean) });
    }
  }
  return variants;
}

interface Attempt {
  end: number;
  /** Message words used for name words. */
  matched: number;
  /** Of which distinctive (non-generic) name words. */
  core: number;
  /** Sum of typo costs (lower is a closer spelling). */
  cost: number;
}

function better(a: Attempt | null, b: Attempt | null): Attempt | null {
  if (!a) return b;
  if (!b) return a;
  if (a.core !== b.core) return a.core > b.core ? a : b;
  if (a.matched !== b.matched) return a.matched > b.matched ? a : b;
  return a.cost <= b.cost ? a : b;
}

function wordKey(t: Token | undefined): string | null {
  return t && t.kind === 'word' ? singularKey(t.text) : null;
}

/** Typo cost of reading message key `word` as name key `target`, or null when it is not similar.
 *  Memoised per message: the walk compares the same pairs many times. */
type Compare = (word: string, target: string) => number | null;

function comparer(): Compare {
  const memo = new Map<string, number | null>();
  return (word, target) => {
    const k = `${word}\u0000${target}`;
    let cost = memo.get(k);
    if (cost === undefined) {
      cost = similar(word, target) ? editCost(word, target) : null;
      memo.set(k, cost);
    }
    return cost;
  };
}

/** Best way variant `v` can be read starting at message token `start`, or null. */
function matchVariant(
  tokens: readonly Token[],
  start: number,
  v: Variant,
  vocabulary: ReadonlySet<string>,
  compare: Compare,
): Attempt | null {
  const walk = (vi: number, ti: number, acc: Attempt, usedConnector: boolean): Attempt | null => {
    if (vi === v.keys.length) {
      // A name of descriptive words only ("Diwali gift hamper") needs two of them ("diwali
      // hampers") — one alone ("gift") is too vague — or all of a shorter name.
      const complete = v.allGeneric ? acc.matched >= Math.min(2, v.keys.length) : acc.core > 0;
      return complete && acc.matched > 0 ? acc : null;
    }
    let best: Attempt | null = null;
    const key = wordKey(tokens[ti]);
    const step = (n: number, words: number, cost: number) => {
      let core = 0;
      for (let i = vi; i < vi + n; i++) if (!v.generic[i]) core++;
      const next = { end: ti + words, matched: acc.matched + n, core: acc.core + core, cost: acc.cost + cost };
      best = better(best, walk(vi + n, ti + words, next, usedConnector));
    };
    if (key !== null) {
      // one message word per name word; a word that is itself in the catalog's vocabulary only
      // matches itself ("cake" is one vowel-slip from "cookie" but is not a misspelling of it)
      const exactOnly = vocabulary.has(key) || isCommonWord(key);
      const cost = exactOnly ? (key === v.keys[vi] ? 0 : null) : compare(key, v.keys[vi]);
      if (cost !== null) step(1, 1, cost);
      // several name words run together: "blackforest", "gulabjamun"
      for (let n = 2; n <= 3 && vi + n <= v.keys.length; n++) {
        const joinedCost = compare(key, v.keys.slice(vi, vi + n).join(''));
        if (joinedCost !== null) step(n, 1, joinedCost);
      }
      // one name word split in two: "cup cake" — near-exactly, and not two everyday words
      // ("for me" is not "frame")
      const nextKey = wordKey(tokens[ti + 1]);
      if (nextKey !== null && !(isCommonWord(key) && isCommonWord(nextKey))) {
        const splitCost = compare(singularKey(tokens[ti].text + tokens[ti + 1].text), v.keys[vi]);
        if (splitCost !== null && splitCost <= 0.5) step(1, 2, splitCost);
      }
      // a joiner between name words: "besan ke ladoo"
      if (vi > 0 && acc.matched > 0 && !usedConnector && NAME_CONNECTORS.has(tokens[ti])) {
        best = better(best, walk(vi, ti + 1, acc, true));
      }
    }
    // a descriptive name word the customer left out: "black forest" for "Black forest cake"
    if (v.generic[vi]) best = better(best, walk(vi + 1, ti, acc, usedConnector));
    return best;
  };
  const found = walk(0, start, { end: start, matched: 0, core: 0, cost: 0 }, false);
  return found && found.end > start ? found : null;
}

interface Candidate extends Attempt {
  entry: CatalogEntry;
  start: number;
  rivals?: CatalogEntry[];
}

/** Non-overlapping product mentions, longest and closest first; a span two products read
 *  equally well is kept with its rivals, to be asked about rather than guessed. */
function findMentions(tokens: readonly Token[], variants: readonly Variant[]): Candidate[] {
  const vocabulary = vocabularyOf(variants);
  // Every comparison requires the same first letter (a run-together "blackforest" starts with
  // the first name word it covers), so a name none of whose words starts with a letter some
  // message word starts with cannot match: skip it without walking. Keeps big catalogs fast.
  const initials = new Set(tokens.filter((t) => t.kind === 'word').map((t) => singularKey(t.text)[0]));
  const possible = variants.filter((v) => v.keys.some((k) => initials.has(k[0])));
  const compare = comparer();
  const candidates: Candidate[] = [];
  for (let start = 0; start < tokens.length; start++) {
    if (tokens[start].kind !== 'word') continue;
    for (const v of possible) {
      const a = matchVariant(tokens, start, v, vocabulary, compare);
      if (a) candidates.push({ ...a, entry: v.entry, start });
    }
  }
  candidates.sort((a, b) => b.end - b.start - (a.end - a.start) || b.core - a.core || a.cost - b.cost);
  const taken = new Set<number>();
  const chosen: Candidate[] = [];
  for (const c of candidates) {
    let free = true;
    for (let i = c.start; i < c.end; i++) if (taken.has(i)) free = false;
    if (!free) continue;
    const rivals = [...new Set(candidates.filter(
      (o) => o.entry !== c.entry && o.start === c.start && o.end === c.end && o.core === c.core && o.cost === c.cost,
    ).map((o) => o.entry))];
    for (let i = c.start; i < c.end; i++) taken.add(i);
    chosen.push(rivals.length ? { ...c, rivals } : c);
  }
  return chosen.sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------
// Quantities

const NUMBER_WORDS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11,
  twelve: 12, fifteen: 15, twenty: 20, couple: 2, single: 1, half: 0.5,
  ek: 1, teen: 3, char: 4, chaar: 4, paanch: 5, panch: 5, chhe: 6, che: 6, chhah: 6, cheh: 6, saat: 7,
  aath: 8, aat: 8, nau: 9, das: 10, gyarah: 11, barah: 12, baarah: 12, pandrah: 15, bees: 20,
  aadha: 0.5, adha: 0.5, aadhaa: 0.5, aadhi: 0.5, adhi: 0.5, dedh: 1.5, derh: 1.5, dhai: 2.5, dhaai: 2.5,
  paav: 0.25, pav: 0.25,
};
// Number words that are also everyday words: "a cake" and "do dabba" count, "do you have…" not —
// so these only count right before a product or a unit.
const NUMBER_WORDS_BEFORE_ONLY: Record<string, number> = { a: 1, an: 1, do: 2 };

// Unit words, with what they multiply the number by (the quantity is in the unit said, except
// grams, which become kg because sweets are sold by the kilo: "500 gm" = 0.5).
const UNIT_WORDS: Record<string, number> = {};
for (const [words, factor] of [
  ['kg kgs kilo kilos kilogram kilograms', 1],
  ['g gm gms gram grams gr grm', 0.001],
  ['piece pieces pc pcs nos pkt pkts packet packets pack packs box boxes dabba dabbe dibba dibbe dabbi tin tins jar jars tray trays plate plates unit units', 1],
  ['dozen dozens darjan', 12],
] as const) {
  for (const w of words.split(' ')) UNIT_WORDS[singularKey(w)] = factor;
}
const DOZEN = 12;

/** Words that may sit between a number and its product: "2 eggless chocolate cakes", "2 boxes of". */
const QUANTITY_FILLERS = new WordList(
  ['x', 'of', 'ka', 'ki', 'ke', 'more', 'extra', 'eggless', 'small', 'big', 'large', 'medium', 'fresh', 'special',
    'premium', 'mini', 'regular', 'sugarfree', 'plain', 'the'],
  false,
);
/** Between a product and a number after it: "cake x 2", "cakes - 3", "rasgulla ka 1 dabba",
 *  "hamper chahiye 10 piece". */
const AFTER_FILLERS = new WordList(['x', 'qty', 'quantity', 'ka', 'ki', 'ke', 'of', 'chahiye', 'chahie', 'chaiye'], false);
/** A number right after these is a price, time, sector or phone number, not a quantity. */
const NOT_QUANTITY_BEFORE = new WordList(
  ['rs', 'inr', 'at', 'by', 'on', 'till', 'upto', 'before', 'after', 'sector', 'number', 'pincode', 'phone', 'no'],
  false,
);
/** A number followed by these is a time, price, headcount, date or size. */
const NOT_QUANTITY_AFTER = new WordList(
  ['pm', 'am', 'baje', 'bje', 'bajey', 'rs', 'rupees', 'rupaye', 'rupay', 'inr', 'people', 'persons', 'person',
    'log', 'logo', 'guests', 'pax', 'year', 'years', 'yrs', 'yr', 'saal', 'sal', 'min', 'mins', 'minute', 'minutes',
    'hour', 'hours', 'hrs', 'hr', 'days', 'day', 'din', 'tarikh', 'date', 'oclock', 'jan', 'january', 'feb',
    'february', 'march', 'april', 'may', 'june', 'july', 'aug', 'august', 'sept', 'september', 'oct', 'october',
    'nov', 'november', 'dec', 'december', 'x'],
  false,
);

interface QuantityRead {
  value: number;
  /** Token index of the number (or the unit, for a bare "dozen"). */
  at: number;
  tokens: number[];
}

function unitFactor(t: Token | undefined): number | null {
  if (!t || t.kind !== 'word') return null;
  return UNIT_WORDS[singularKey(t.text)] ?? null;
}

function numberValue(t: Token | undefined, position: 'before' | 'after', unitFollows: boolean): number | null {
  if (!t) return null;
  if (t.kind === 'num') return t.ordinal ? null : (t.value ?? null);
  if (t.kind !== 'word') return null;
  if (NUMBER_WORDS[t.text] !== undefined) return NUMBER_WORDS[t.text];
  if (NUMBER_WORDS_BEFORE_ONLY[t.text] !== undefined && (position === 'before' || unitFollows)) {
    return NUMBER_WORDS_BEFORE_ONLY[t.text];
  }
  return null;
}

/** "2 kg kaju katli", "a dozen cupcakes", "teen dabbe soan papdi": quantity ending at `start`. */
function quantityBefore(tokens: readonly Token[], start: number): QuantityRead | null {
  let factor = 1;
  let fillers = 0;
  let sawDozen = -1;
  const used: number[] = [];
  for (let j = start - 1; j >= 0 && fillers <= 3; j--) {
    const t = tokens[j];
    // number words first: "teen" (three) and "tin" (a unit) share a phonetic key
    const value = numberValue(t, 'before', true);
    const unit = value === null ? unitFactor(t) : null;
    if (value !== null) {
      if (NOT_QUANTITY_BEFORE.has(tokens[j - 1])) return null;
      const total = value * factor;
      if (t.kind === 'num' && total >= 1000) return null; // a price, pincode or phone number
      return { value: total, at: j, tokens: [j, ...used] };
    }
    if (unit !== null) {
      factor *= unit;
      if (unit === DOZEN) sawDozen = j;
    } else if (!QUANTITY_FILLERS.has(t) && !(t.kind === 'punct' && t.text === '*')) {
      break;
    }
    used.push(j);
    fillers++;
  }
  // "dozen cupcakes" with no number before it
  return sawDozen >= 0 ? { value: factor, at: sawDozen, tokens: used } : null;
}

/** "chocolate cake x 2", "brownies 6 pcs", "jalebi dedh kilo": quantity starting after `end`. */
function quantityAfter(tokens: readonly Token[], end: number): QuantityRead | null {
  let j = end;
  const used: number[] = [];
  for (let skipped = 0; skipped < 2; skipped++) {
    const t = tokens[j];
    const isFiller = AFTER_FILLERS.has(t) || (t?.kind === 'punct' && '-:=*'.includes(t.text));
    if (!isFiller) break;
    used.push(j);
    j++;
  }
  let k = j + 1;
  let factor = 1;
  while (unitFactor(tokens[k]) !== null && k <= j + 2) {
    factor *= unitFactor(tokens[k]) as number;
    used.push(k);
    k++;
  }
  const value = numberValue(tokens[j], 'after', factor !== 1 || k > j + 1);
  if (value === null) return null;
  const after = tokens[k];
  if (NOT_QUANTITY_AFTER.has(after) || (after?.kind === 'punct' && after.text === ':')) return null;
  const total = value * factor;
  if (tokens[j].kind === 'num' && total >= 1000) return null;
  return { value: total, at: j, tokens: [j, ...used] };
}

/**
 * Assigns each product its quantity. A number between two products could belong to either
 * ("kaju katli 1kg rasgulla 2"), so the message's own habit decides: if more products have a
 * number after them than before, numbers are read as following their product.
 */
function assignQuantities(tokens: readonly Token[], mentions: readonly Candidate[]): ProductMatch[] {
  const reads = mentions.map((m) => ({ before: quantityBefore(tokens, m.start), after: quantityAfter(tokens, m.end) }));
  const numbersAfter = reads.filter((r) => r.after).length;
  const numbersBefore = reads.filter((r) => r.before).length;
  const preferAfter = numbersAfter > numbersBefore;
  const claimed = new Set<number>();
  return mentions.map((m, i) => {
    const { before, after } = reads[i];
    const options = preferAfter ? [after, before] : [before, after];
    const read = options.find((r) => r && !claimed.has(r.at)) ?? null;
    if (read) claimed.add(read.at);
    return {
      entry: m.entry,
      start: m.start,
      end: m.end,
      quantity: read ? read.value : 1,
      explicitQuantity: read !== null,
      quantityTokens: read ? read.tokens : [],
      negated: isExcluded(tokens, read ? Math.min(m.start, ...read.tokens) : m.start),
      rivals: m.rivals ?? [],
    };
  });
}

/** "not black forest", "no red velvet", "without jalebi": a negator just before the product. */
function isExcluded(tokens: readonly Token[], start: number): boolean {
  for (let j = start - 1; j >= 0 && j >= start - 3; j--) {
    const t = tokens[j];
    if (t.kind === 'sep') return false;
    if (PRODUCT_NEGATORS.has(t)) return true;
    if (!(t.kind === 'word' && ['the', 'a', 'an', 'any'].includes(t.text))) return false;
  }
  return false;
}

/** Every catalog product the message mentions, in message order, with quantities. */
export function findProducts(tokens: readonly Token[], catalog: readonly CatalogEntry[]): ProductMatch[] {
  if (!catalog.length) return [];
  const mentions = findMentions(tokens, variantsOf(catalog));
  return assignQuantities(tokens, mentions);
}
