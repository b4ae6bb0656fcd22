// Word lists for intent detection, in English and Hinglish. Devanagari needs no list of its own:
// it is transliterated before matching (see text.ts), so "चाहिए" meets "chahiye" here.
//
// Entries are surface spellings; they are compared through phonetic keys with typo tolerance
// (text.ts `similar`), so only genuinely different words need listing, not every misspelling.

import { isCommonWord, phoneticKey, remembered, similar, type Token } from './text.js';

/** A set of words (compared fuzzily) and of phrases (each word compared fuzzily, in order). */
export class WordList {
  private readonly exact: Set<string>;
  readonly phrases: string[][];

  /**
   * @param entries words or space-separated phrases
   * @param fuzzy when false, only exact keys count — for very short or very common words where a
   *   one-letter slip makes another word ("na"/"no", "do")
   */
  private readonly literal: Set<string>;
  /** Is a message word (its key) near one of the single words? similar() needs the first letter to
   *  agree, so only the words with the key's first letter are tried. */
  private readonly near: (key: string) => boolean;

  constructor(entries: string[], private readonly fuzzy = true) {
    // "=pic": compare the spelling itself, for words whose phonetic key collides ("pic"/"pick")
    this.literal = new Set(entries.filter((e) => e.startsWith('=')).map((e) => e.slice(1)));
    const single = entries.filter((e) => !e.includes(' ') && !e.startsWith('='));
    this.exact = new Set(single.map(phoneticKey));
    const byInitial = new Map<string, string[]>();
    for (const w of this.exact) byInitial.set(w[0], (byInitial.get(w[0]) ?? []).concat(w));
    this.near = remembered(5_000, (key) => (byInitial.get(key[0]) ?? []).some((w) => similar(key, w)));
    this.phrases = entries.filter((e) => e.includes(' ')).map((e) => e.split(' ').map(phoneticKey));
  }

  /** Is this token one of the single words? */
  has(token: Token | undefined): boolean {
    if (!token || token.kind === 'num' || token.kind === 'sep' || token.kind === 'punct') return false;
    if (this.exact.has(token.key) || this.literal.has(token.text)) return true;
    if (!this.fuzzy || token.kind !== 'word' || isCommonWord(token.key)) return false;
    return this.near(token.key);
  }

  /** Length of the phrase starting at tokens[i], or 0 (single words count as 1). */
  matchAt(tokens: readonly Token[], i: number): number {
    for (const phrase of this.phrases) {
      if (phrase.every((k, j) => keyMatches(tokens[i + j], k, this.fuzzy))) return phrase.length;
    }
    return this.has(tokens[i]) ? 1 : 0;
  }
}

function keyMatches(token: Token | undefined, key: string, fuzzy: boolean): boolean {
  if (!token || (token.kind !== 'word' && token.kind !== 'emoji')) return false;
  return token.key === key || (fuzzy && !isCommonWord(token.key) && similar(token.key, key));
}

// --- Orders ---------------------------------------------------------------------------------

/** Verbs that by themselves say "I want to buy" (unless negated, or about something else). */
export const ORDER_VERBS = new WordList([
  'order', 'orders', 'ordering', 'buy', 'buying', 'purchase', 'purchasing', 'want', 'wants', 'need', 'needs',
  'book', 'booking', 'reserve', 'require', 'required',
  'chahiye', 'chahie', 'chaiye', 'chahte', 'chahta', 'chahti',
  'lena', 'leni', 'lunga', 'lungi', 'lenge',
  'mangwana', 'mangwani', 'mangwane', 'mangana', 'mangwa', 'mangwao', 'mangwaiye',
  'kharidna', 'kharidni', 'kharid', 'kharidenge',
  'looking for',
]);

/**
 * Verbs of handing over or making ("send", "bhej do", "pack kar do") that are an order only when
 * something to send is named: "send 2 cakes" is an order, "send menu" and "bill bhej do" are not,
 * and a bare "bhej dijiye" answers a question the shop asked (a confirmation).
 */
export const REQUEST_VERBS = new WordList([
  'send', 'deliver', 'make', 'bake', 'pack', 'get', 'take', 'give', 'like',
  'bhej', 'bhejo', 'bhejna', 'bhejiye', 'bhejdo', 'bhejdena', 'bhijwa', 'bhijwana', 'bhijwado',
  'dedo', 'de do', 'de dijiye', 'de dijie', 'de dena', 'banao', 'banado', 'bana do', 'banwana', 'banwa', 'banwado',
  'rakh', 'rakhna', 'rakhiye', 'rakhdo', 'rakho',
]);
/** Request verbs that are everyday words elsewhere; they need a helper before them ("can I get",
 *  "I will take", "I would like", "give me"). */
export const GUARDED_REQUEST_VERBS = new WordList(['get', 'take', 'give', 'like'], false);
export const REQUEST_HELPERS = new WordList(
  ['i', 'we', 'will', 'would', 'can', 'could', 'may', 'to', 'please', 'pls', 'plz', 'kindly', 'me', 'us', 'just'],
  false,
);

/** After "want to" / "need to", only these keep it an order ("want to know the price" is not). */
export const ORDER_INFINITIVES = new WordList([
  'order', 'buy', 'purchase', 'book', 'get', 'have', 'place', 'try', 'take', 'send', 'gift', 'reserve',
]);

/** A word before "order" that makes it an existing order being talked about ("my order"). */
export const ORDER_REFERENCE_BEFORE = new WordList(
  ['my', 'mera', 'meri', 'mere', 'the', 'this', 'that', 'your', 'our', 'hamara', 'humara', 'apna', 'previous',
    'last', 'same', 'cancel', 'confirm', 'track', 'radd', 'bulk'],
  false,
);
/** A word after "order" that makes it an existing order ("order status", "order confirm karo"). */
export const ORDER_REFERENCE_AFTER = new WordList([
  'status', 'number', 'id', 'kab', 'ready', 'details', 'cancel', 'confirm', 'confirmed', 'radd', 'update', 'kahan',
  'kaha', 'abhi', 'tak', 'no',
]);

/** Nouns that are not a product on their own but make an order verb about buying ("I need a cake"). */
export const GENERIC_GOODS = new WordList([
  'cake', 'sweets', 'sweet', 'mithai', 'mithaai', 'ladoo', 'laddu', 'hamper', 'gift', 'gifts', 'pastry', 'pastries',
  'box', 'boxes', 'dabba', 'mug', 'frame',
]);

/** Things asked for that are information, not goods: "send menu", "bill bhej do", "I need the price". */
export const INFO_NOUNS = new WordList([
  'menu', 'price', 'prices', 'pricing', 'pricelist', 'rate', 'rates', 'cost', 'costs', 'charge', 'charges',
  'bhav', 'bhaav', 'daam', 'keemat', 'kimat',
  'photo', 'photos', '=pic', 'pics', 'picture', 'pictures', 'image', 'images', 'catalogue', 'catalog',
  'location', 'address', 'details', 'detail', 'info', 'information', 'number', 'contact',
  'bill', 'invoice', 'receipt', 'qr', 'upi', 'account', 'link', 'timing', 'timings', 'list', 'options',
  'flavour', 'flavours', 'flavor', 'flavors', 'design', 'designs', 'payment', 'amount', 'total', 'help',
]);

// --- Questions ------------------------------------------------------------------------------

/** Words that make a message a question about something (price, time, place, availability). */
export const QUESTION_WORDS = new WordList([
  'how', 'what', 'when', 'where', 'which', 'why',
  'kitna', 'kitne', 'kitni', 'kya', 'kab', 'kahan', 'kaha', 'kidhar', 'kaun', 'kaunsa', 'konsa', 'kaise', 'kese',
  'available', 'availability', 'open', 'khula', 'khuli', 'khule', 'status', 'track', 'possible',
  'milega', 'milegi', 'milenge', 'hoga', 'hogi',
  // "show me" is asking to see, not to buy: "gift hampers dikhao"
  'dikhao', 'dikhaiye', 'dikha', 'dikhana', 'show',
  'do you', 'do u', 'does', 'are you', 'r u', 'is there', 'is it', 'have you', 'hai kya',
  // asking a price is asking, whatever else the message names
  'menu', 'price', 'prices', 'rate', 'rates', 'cost', 'charges', 'bhav', 'bhaav', 'daam', 'keemat', 'kimat',
]);

/** How a question clause starts when it asks about the shop, not for goods ("Do you take bulk
 *  orders?", "How many days before should I book?"). "Can I/you…" is a polite request instead. */
export const QUESTION_OPENERS = new WordList([
  'how', 'what', 'when', 'where', 'which', 'why', 'kitna', 'kitne', 'kitni', 'kab', 'kahan', 'kaise', 'kya',
  'do you', 'do u', 'does', 'are you', 'r u', 'is there', 'is it', 'have you', 'should i', 'will i', 'by when',
  'till when',
]);

/** Past-tense / feedback / thanks: "Red velvet was amazing", "thanks for the chocolate cake" name a
 *  product but order nothing. */
export const FEEDBACK_WORDS = new WordList(
  ['was', 'were', 'tha', 'thi', 'amazing', 'delicious', 'tasty', 'loved', 'yummy', 'awesome', 'received', 'ordered',
    'got', 'thank', 'thanks', 'thanku', 'thx', 'shukriya', 'dhanyavaad', 'dhanyavad'],
  false,
);

// --- Confirm / decline ----------------------------------------------------------------------

/** An unmistakable yes: wins even over a question in the same message ("yes, what time?"). */
export const CONFIRM_STRONG = new WordList([
  'yes', 'yeah', 'yea', 'yep', 'yup', 'haan', 'haanji', 'hanji', 'hnji', 'confirm', 'confirmed', 'confirming',
  'proceed', 'done', 'pakka', 'bilkul', 'absolutely', 'emoji_yes',
  'go ahead', 'of course', 'ji haan', 'sahi hai', 'that is right', 'that is correct',
]);
/** Short yes-words that need exact spelling ("ha" is one slip from "hai", "ya" from "yah"…). */
export const CONFIRM_STRONG_EXACT = new WordList(['ha', 'haa', 'han', 'hn', 'ya', 'yaa', 'yah', 'ys'], false);
/** A soft yes ("ok", "theek hai"): a confirmation unless the message is really a question
 *  ("ok, how much for 2 kg?"). */
export const CONFIRM_WEAK = new WordList([
  'okay', 'okey', 'okie', 'okies', 'fine', 'alright', 'theek', 'thik', 'thk', 'tik', 'acha', 'accha', 'achha',
  'acchha', 'sure', 'correct', 'perfect', 'cool', 'final', 'chalega', 'sahi',
  'all right', 'sounds good', 'no problem', 'no worries', 'no issue', 'koi baat nahi',
]);
export const CONFIRM_WEAK_EXACT = new WordList(['ok', 'okk', 'oky'], false);
/** A yes only as (nearly) the whole reply; inside a sentence these are filler ("Namaste ji"). */
export const CONFIRM_ALONE = new WordList(['k', 'kk', 'ji', 'jee', 'hmm', 'hm'], false);

/** Phrases beginning with a "no" word that are not a refusal. */
export const NOT_A_REFUSAL = new WordList([
  'no problem', 'no worries', 'no issue', 'no issues', 'koi baat nahi', 'no doubt',
]);

/** Refusals that need no context: "cancel", "rehne do", "not interested". */
export const DECLINE_WORDS = new WordList([
  'cancel', 'cancelled', 'canceled', 'cancelling', 'cancle', 'radd', 'emoji_no', 'chhodo', 'chodo',
  'nevermind',
  'rehne do', 'rehne dijiye', 'rahne do', 'rahne dijiye', 'leave it', 'not now', 'not interested', 'no thanks',
  'no thank you', 'changed my mind', 'change of plans', 'never mind', 'forget it', 'abhi nahi', 'abhi nhi',
  'baad me', 'baad mein', 'let you know', 'some other time', 'next time', 'not this time', 'maybe later', 'not required',
  'not needed', 'no longer',
]);

/** "No" words: a refusal when they open a clause or make up the message ("No.", "nahi bhai"). */
export const NO_WORDS = new WordList(['no', 'nahi', 'nahin', 'nhi', 'nai', 'nahii', 'na', 'naa', 'nope', 'nah', 'nopes'], false);

/** Words that negate an order verb near them. English puts them before the verb ("don't want",
 *  "not ordering", "no need"); Hindi before or after ("nahi chahiye", "order nahi karna"). */
export const NEGATORS_EN = new WordList(['not', 'never', 'no'], false);
export const NEGATORS_HI = new WordList(['nahi', 'nahin', 'nhi', 'nai', 'nahii', 'mat', 'naa'], false);
/** Words that exclude the product right after them ("red velvet, not black forest"). */
export const PRODUCT_NEGATORS = new WordList(['not', 'no', 'without', 'except', 'nahi', 'mat'], false);

// --- Subscription ---------------------------------------------------------------------------

export const MESSAGE_NOUNS = new WordList([
  'message', 'messages', 'msg', 'msgs', 'sms', 'text', 'texts', 'notification', 'notifications', 'update', 'updates',
  'messaging', 'texting', 'spam', 'spamming', 'alerts',
]);
/** Words that alone (with politeness around them) are an opt-out: WhatsApp's STOP convention.
 *  Exact spellings only — a command this consequential should not be guessed from "option". */
export const OPT_OUT_ALONE = new WordList(['stop', 'unsubscribe', 'band', 'optout', 'opt out', 'stop all'], false);
export const OPT_IN_ALONE = new WordList(
  ['start', 'subscribe', 'unstop', 'resume', 'shuru', 'chalu', 'optin', 'opt in'],
  false,
);
/** Opt-out / opt-in wherever they appear. Only the long words tolerate typos ("unsubcribe"). */
export const OPT_OUT_ANYWHERE = [new WordList(['unsubscribe']), new WordList(['optout', 'opt out'], false)];
export const OPT_IN_ANYWHERE = [new WordList(['subscribe']), new WordList(['optin', 'opt in'], false)];
/** Verbs that, next to a message noun, stop or start messages ("stop msgs", "messages band karo"). */
export const STOP_VERBS = new WordList(['stop', 'band', 'bnd', 'do not send', 'no more', 'mat bhejo'], false);
export const START_VERBS = new WordList(['start', 'resume', 'shuru', 'chalu', 'send me'], false);
/** Politeness and filler around a one-word command ("STOP please", "band karo ji"). */
export const FILLER = new WordList(
  ['please', 'pls', 'plz', 'now', 'all', 'ji', 'bhai', 'bhaiya', 'sir', 'it', 'karo', 'kar', 'do', 'dijiye', 'kardo',
    'again', 'this', 'thanks', 'me', 'kare', 'karein', 'karen', 'just'],
  false,
);
