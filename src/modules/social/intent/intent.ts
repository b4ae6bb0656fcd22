// Intent detection for inbound WhatsApp messages (SPEC §7): is the customer ordering (and what),
// confirming, declining, opting out of or back into messages — or something else (a question,
// a greeting)? Pure and synchronous: no database, no network, so it can run inside the webhook
// worker and be tested on plain strings.
//
// Messages are English, Hinglish or Hindi in Devanagari, with typos and emoji. The approach is
// deliberately simple and inspectable — tokenise, find catalog products, read a few cues per
// clause, decide with fixed precedence — rather than a model nobody on a small team can debug:
//
//   1. A lone STOP/START (or "unsubscribe", "stop messages", "मैसेज बंद करो") is a subscription
//      command and wins outright: honouring an opt-out matters more than anything else.
//   2. An order: an order verb that is not negated ("want", "chahiye", "book"), a hand-over verb
//      with something to hand over ("send 2 cakes"), or products named without a question
//      ("2 kg kaju katli") — unless the clause is really a question or about information
//      ("I want to know the price", "do you take bulk orders?", "send menu").
//   3. Otherwise a refusal (incl. a negated order: "don't want", "nahi chahiye"), then a clear yes,
//      then a soft yes ("ok") unless the message is a question; otherwise 'other'.

import {
  CONFIRM_ALONE, CONFIRM_STRONG, CONFIRM_STRONG_EXACT, CONFIRM_WEAK, CONFIRM_WEAK_EXACT, DECLINE_WORDS, FEEDBACK_WORDS, FILLER,
  GENERIC_GOODS, GUARDED_REQUEST_VERBS, INFO_NOUNS, MESSAGE_NOUNS, NEGATORS_EN, NEGATORS_HI, NO_WORDS,
  NOT_A_REFUSAL, OPT_IN_ALONE, OPT_IN_ANYWHERE, OPT_OUT_ALONE, OPT_OUT_ANYWHERE, ORDER_INFINITIVES,
  ORDER_REFERENCE_AFTER, ORDER_REFERENCE_BEFORE, ORDER_VERBS, QUESTION_OPENERS, QUESTION_WORDS, REQUEST_HELPERS,
  REQUEST_VERBS, START_VERBS, STOP_VERBS, WordList,
} from './lexicon.js';
import { findProducts, type CatalogEntry, type ProductMatch } from './products.js';
import { tokenize, type Token } from './text.js';

export type { CatalogEntry } from './products.js';

export type Intent = 'order' | 'confirm' | 'decline' | 'opt_out' | 'opt_in' | 'other';

export interface IntentItem {
  product_id: string;
  name: string;
  quantity: number;
}

export interface IntentResult {
  intent: Intent;
  /** The message also says yes ("yes I want 2 cakes, confirm"); only ever true for 'order' and
   *  'confirm'. */
  confirms: boolean;
  /** Catalog products asked for, with quantities (default 1). Empty unless intent is 'order'. */
  items: IntentItem[];
  /** Mentions that name two or more products equally well (only for 'order'): the shop asks
   *  which one, and no draft is made from the order until it is clear. */
  unclear?: UnclearItem[];
}

export interface UnclearItem {
  quantity: number;
  candidates: { product_id: string; name: string }[];
}

/** The longest text WhatsApp (text.body) and Telegram deliver. */
export const MAX_TEXT = 4096;

/**
 * Reads one inbound message. `catalog` is the business's products (name plus optional aliases,
 * in any script); its matching index is cached per array, so pass a new array when the catalog
 * changes rather than mutating the old one.
 */
export function detectIntent(text: string, catalog: readonly CatalogEntry[]): IntentResult {
  // Only what a chat message can hold is read: the reading is not linear in the length, and a
  // 2 MB body (the webhook accepts 3 MB) would otherwise hold a worker for hours.
  const tokens = tokenize(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);

  const subscription = detectSubscription(tokens);
  if (subscription) return { intent: subscription, confirms: false, items: [] };

  const products = findProducts(tokens, catalog);
  const wordCount = tokens.filter((t) => t.kind === 'word' || t.kind === 'emoji').length;
  const clauses = splitClauses(tokens, products).map((c) => readClause(c, wordCount <= 2));
  return decide(clauses);
}

// ---------------------------------------------------------------------------------------------
// 1. Subscription commands

const ORDER_WORD = new WordList(['order', 'orders']);

function detectSubscription(tokens: readonly Token[]): 'opt_out' | 'opt_in' | null {
  // The whole message is the command, give or take "please"/"ji": WhatsApp's STOP/START convention.
  const core = tokens.filter((t) => t.kind === 'word' && !FILLER.has(t));
  if (core.length >= 1 && core.length <= 2) {
    if (OPT_OUT_ALONE.matchAt(core, 0) === core.length) return 'opt_out';
    if (OPT_IN_ALONE.matchAt(core, 0) === core.length) return 'opt_in';
  }
  const anywhere = (lists: WordList[]) => tokens.some((_, i) => lists.some((l) => l.matchAt(tokens, i) > 0));
  if (anywhere(OPT_OUT_ANYWHERE)) return 'opt_out';
  if (anywhere(OPT_IN_ANYWHERE)) return 'opt_in';
  // Inside a sentence "stop" only counts next to messages ("stop sending me these messages",
  // "messages band karo"), so "stop my order" or "don't stop the cake order" is not an opt-out.
  for (const clause of clauseRanges(tokens)) {
    const words = tokens.slice(clause.start, clause.end);
    if (!words.some((t) => MESSAGE_NOUNS.has(t))) continue;
    if (words.some((_, i) => STOP_VERBS.matchAt(words, i))) return 'opt_out';
    if (words.some((_, i) => START_VERBS.matchAt(words, i))) return 'opt_in';
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// 2. Clauses

const PRODUCT: Token = { kind: 'word', text: '#product', key: '#product' };
// Words that join clauses. "but"/"lekin" often flip polarity ("don't want black forest but send
// chocolate"); "and"/"aur" keep a refusal or negation from spreading to the next item ("cancel the
// black forest and send 2 chocolate cakes"). Quantities are read across them, so "2 cakes and
// 1 brownie" loses nothing.
const CLAUSE_JOINERS = new WordList(['but', 'lekin', 'however', 'instead', 'and', 'aur', 'n', 'or'], false);

interface Range {
  start: number;
  end: number;
  /** Ended by a question mark. */
  question: boolean;
}

function clauseRanges(tokens: readonly Token[]): Range[] {
  const ranges: Range[] = [];
  let start = 0;
  for (let i = 0; i <= tokens.length; i++) {
    const t = tokens[i];
    const boundary = i === tokens.length || t.kind === 'sep' || CLAUSE_JOINERS.has(t);
    if (!boundary) continue;
    if (i > start) ranges.push({ start, end: i, question: t?.text === '?' });
    else if (t?.text === '?' && ranges.length) ranges[ranges.length - 1].question = true; // "??"
    start = i + 1;
  }
  return ranges;
}

interface Clause {
  /** The clause's tokens with each product name (and its quantity) collapsed to one PRODUCT
   *  token, so product words are never read as cues ("Photo frame" is not a photo request). */
  view: Token[];
  products: ProductMatch[];
  question: boolean;
}

function splitClauses(tokens: readonly Token[], products: readonly ProductMatch[]): Clause[] {
  const owner = new Map<number, ProductMatch>();
  for (const p of products) {
    for (let i = p.start; i < p.end; i++) owner.set(i, p);
    for (const i of p.quantityTokens) owner.set(i, p);
  }
  return clauseRanges(tokens).map((r) => {
    const view: Token[] = [];
    const inClause: ProductMatch[] = [];
    for (let i = r.start; i < r.end; i++) {
      const p = owner.get(i);
      if (!p) view.push(tokens[i]);
      else if (!inClause.includes(p)) {
        inClause.push(p);
        view.push(PRODUCT);
      }
    }
    return { view, products: inClause, question: r.question };
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Reading one clause

interface ClauseSignals {
  /** A live wish to buy. */
  order: boolean;
  /** An order verb negated: "don't want", "nahi chahiye", "mat bhejo". */
  negatedOrder: boolean;
  decline: boolean;
  confirmStrong: boolean;
  confirmWeak: boolean;
  question: boolean;
  info: boolean;
  feedback: boolean;
  /** Products asked for here (not negated, not in a refused clause). */
  products: ProductMatch[];
  /** A generic thing to buy with a number: "2 cakes please". */
  genericWithNumber: boolean;
}

const YOU = new WordList(['you', 'u', 'aap', 'aapko', 'aapke', 'tum', 'tumhe', 'tumko'], false);
const TO = new WordList(['to'], false);
const WOULD = new WordList(['would'], false);
const ME_US = new WordList(['me', 'us', 'mujhe', 'hume'], false);
const STOP = new WordList(['stop'], false);
const HINDI_TAG_NA = new WordList(['na', 'naa'], false);
const NOT_NEVER = new WordList(['not', 'never'], false);
/** Words that make a bare hand-over verb refer to the thing already discussed ("send it"). */
const PRONOUNS = new WordList(['it', 'them', 'this', 'that'], false);

function isNegated(view: readonly Token[], i: number): boolean {
  // English negation precedes the verb: "not ordering", "do not really want", "no need".
  if (NEGATORS_EN.has(view[i - 1])) return true;
  if (NOT_NEVER.has(view[i - 2]) || NOT_NEVER.has(view[i - 3])) return true;
  // Hindi negation sits either side: "nahi chahiye", "mat bhejo", "order nahi karna", "lena nahi
  // hai" — but a trailing "na" is a tag ("bhej do na" = "do send it").
  if (NEGATORS_HI.has(view[i - 1]) || NEGATORS_HI.has(view[i - 2])) return true;
  for (const t of [view[i + 1], view[i + 2]]) {
    if (NEGATORS_HI.has(t) && !HINDI_TAG_NA.has(t)) return true;
  }
  return false;
}

/** "my order", "order status", "cancel order", "order confirm kar do": an existing order. */
function isOrderReference(view: readonly Token[], i: number): boolean {
  if (!ORDER_WORD.has(view[i])) return false;
  return ORDER_REFERENCE_BEFORE.has(view[i - 1]) || ORDER_REFERENCE_AFTER.has(view[i + 1]);
}

function readClause(clause: Clause, shortMessage: boolean): ClauseSignals {
  const { view, products } = clause;
  const has = (list: WordList) => view.some((_, i) => list.matchAt(view, i) > 0);
  const question = clause.question || has(QUESTION_WORDS);
  const info = has(INFO_NOUNS);
  const opener = QUESTION_OPENERS.matchAt(view, 0) > 0;
  const quantified = products.some((p) => p.explicitQuantity);
  const goods = products.length > 0 || has(GENERIC_GOODS) || view.some((t) => t.kind === 'num');

  let order = false;
  let negatedOrder = false;
  let bareRequest = false;
  for (let i = 0; i < view.length; i++) {
    const strong = ORDER_VERBS.matchAt(view, i) > 0;
    const request = !strong && isRequestVerb(view, i);
    if (!strong && !request) continue;
    if (strong && isOrderReference(view, i)) continue;
    // "do you need advance?", "aapko kya chahiye?": the shop's need, not the customer's. ("Can
    // you make…" is different: a request verb with "you" is asking the shop to do it.)
    if (strong && (YOU.has(view[i - 1]) || YOU.has(view[i - 2]))) continue;
    if (TO.has(view[i + 1]) && !ORDER_INFINITIVES.has(view[i + 2])) continue; // "want to know…"
    if (isNegated(view, i)) {
      negatedOrder = true;
      continue;
    }
    // A question about the shop ("do you take bulk orders?") or a request for information
    // ("I need the price list", "menu bhejo") is not an order unless quantities say otherwise.
    if ((opener || info) && !quantified) continue;
    if (strong || goods) order = true;
    else if (!has(PRONOUNS) || view.length <= 3) bareRequest = true;
  }

  const decline = readDecline(view, opener, question);
  const refused = negatedOrder || decline === 'refuses';
  let confirmStrong = false;
  let confirmWeak = bareRequest || decline === 'keeps'; // "don't cancel" keeps the order
  for (let i = 0; i < view.length; i++) {
    if (NOT_NEVER.has(view[i - 1])) continue; // "not sure"
    if (CONFIRM_STRONG.matchAt(view, i) || CONFIRM_STRONG_EXACT.matchAt(view, i)) confirmStrong = true;
    else if (CONFIRM_WEAK.matchAt(view, i) || CONFIRM_WEAK_EXACT.matchAt(view, i)) confirmWeak = true;
    else if (shortMessage && CONFIRM_ALONE.matchAt(view, i)) confirmWeak = true;
  }

  return {
    order,
    negatedOrder,
    decline: refused,
    confirmStrong,
    confirmWeak,
    question,
    info,
    feedback: has(FEEDBACK_WORDS),
    // A refused clause refuses its products too: "kaju katli nahi chahiye", "cancel the black forest".
    products: refused && !order ? [] : products.filter((p) => !p.negated),
    genericWithNumber: has(GENERIC_GOODS) && view.some((t) => t.kind === 'num'),
  };
}

function isRequestVerb(view: readonly Token[], i: number): boolean {
  if (!REQUEST_VERBS.matchAt(view, i)) return false;
  if (!GUARDED_REQUEST_VERBS.has(view[i])) return true;
  // "get", "take", "give", "like" are everyday words; only "can I get", "I will take",
  // "give me", "I would like" (or a sentence-initial imperative) make them a request.
  if (view[i].text === 'like') return WOULD.has(view[i - 1]);
  if (view[i].text === 'give') return ME_US.has(view[i + 1]);
  return i === 0 || REQUEST_HELPERS.has(view[i - 1]) || REQUEST_HELPERS.has(view[i - 2]);
}

/** 'refuses' ("cancel", "No.", "rehne do"), 'keeps' ("don't cancel", "cancel nahi karna") or null. */
function readDecline(view: readonly Token[], opener: boolean, question: boolean): 'refuses' | 'keeps' | null {
  // "Can I cancel if plans change?" asks about cancelling; it does not cancel.
  if (opener || (question && REQUEST_HELPERS.has(view[0]))) return null;
  if (NOT_A_REFUSAL.matchAt(view, 0) === 0 && NO_WORDS.has(view[0])) return 'refuses'; // "No.", "nahi bhai"
  for (let i = 0; i < view.length; i++) {
    const cancels =
      (DECLINE_WORDS.matchAt(view, i) > 0 && !NOT_A_REFUSAL.matchAt(view, i)) ||
      // "stop my order" (an opt-out needs messages to be mentioned, see detectSubscription)
      (STOP.has(view[i]) && view.slice(i + 1, i + 4).some((t) => ORDER_WORD.has(t)));
    if (cancels) return isNegated(view, i) ? 'keeps' : 'refuses';
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// 4. Deciding

function decide(clauses: readonly ClauseSignals[]): IntentResult {
  const any = (f: (c: ClauseSignals) => boolean) => clauses.some(f);
  const question = any((c) => c.question);
  const confirmStrong = any((c) => c.confirmStrong);
  const confirmWeak = any((c) => c.confirmWeak);

  const products = clauses.flatMap((c) => c.products);
  // Products named without a verb are an order ("2 kg kaju katli", "Pineapple cake 1kg pls") —
  // unless the message asks about them, asks for information, or talks about a past order.
  const implicitOrder =
    (products.length > 0 || any((c) => c.genericWithNumber)) &&
    !question &&
    !any((c) => c.info || c.feedback || c.negatedOrder);

  if (any((c) => c.order) || implicitOrder) {
    const unclear = products.filter((p) => p.rivals.length).map((p) => ({
      quantity: p.quantity,
      candidates: [p.entry, ...p.rivals].map((e) => ({ product_id: e.id, name: e.name })),
    }));
    return { intent: 'order', confirms: confirmStrong, items: toItems(products), ...(unclear.length ? { unclear } : {}) };
  }
  if (any((c) => c.decline)) return { intent: 'decline', confirms: false, items: [] };
  if (confirmStrong) return { intent: 'confirm', confirms: true, items: [] };
  if (confirmWeak && !question) return { intent: 'confirm', confirms: true, items: [] };
  return { intent: 'other', confirms: false, items: [] };
}

/** One line per product; when a product is named twice, the quantity the customer gave wins. */
function toItems(products: readonly ProductMatch[]): IntentItem[] {
  const byId = new Map<string, ProductMatch>();
  for (const p of products) {
    if (p.rivals.length) continue; // unclear: asked about, never guessed
    const seen = byId.get(p.entry.id);
    if (!seen || (!seen.explicitQuantity && p.explicitQuantity)) byId.set(p.entry.id, p);
  }
  return [...byId.values()].map((p) => ({ product_id: p.entry.id, name: p.entry.name, quantity: p.quantity }));
}
