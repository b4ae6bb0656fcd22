// Text normalisation for intent detection: tokenising WhatsApp messages written in English,
// Hinglish (Hindi in Latin letters) or Devanagari, and comparing words tolerantly.
//
// Everything is reduced to lower-case Latin so one set of keyword lists serves all three ways of
// writing: Devanagari is transliterated ("चाहिए" → "chaahie"), and every word also gets a
// phonetic key that irons out the spelling variation Hinglish is full of ("chahiye", "chaiye",
// "chahie"; "laddu", "ladoo"; "kaju katli", "काजू कतली").

export type TokenKind =
  | 'word' // letters (Devanagari already transliterated)
  | 'num' // a number written with digits
  | 'sep' // end of a clause: , . ; ! ? newline ।
  | 'punct' // - : * = / — can sit between a product and its quantity ("cakes - 3")
  | 'emoji'; // only the emoji that carry meaning: text is 'emoji_yes' or 'emoji_no'

export interface Token {
  kind: TokenKind;
  /** Lower-case Latin form ('?' etc. for separators). */
  text: string;
  /** Phonetic key for fuzzy comparison (see phoneticKey). */
  key: string;
  /** For 'num': the value. */
  value?: number;
  /** For 'num': written as an ordinal ("25th") — a date, never a quantity. */
  ordinal?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Devanagari → Latin

const CONSONANTS: Record<string, string> = {
  क: 'k', ख: 'kh', ग: 'g', घ: 'gh', ङ: 'n', च: 'ch', छ: 'chh', ज: 'j', झ: 'jh', ञ: 'n',
  ट: 't', ठ: 'th', ड: 'd', ढ: 'dh', ण: 'n', त: 't', थ: 'th', द: 'd', ध: 'dh', न: 'n',
  प: 'p', फ: 'ph', ब: 'b', भ: 'bh', म: 'm', य: 'y', र: 'r', ल: 'l', ळ: 'l', व: 'v',
  श: 'sh', ष: 'sh', स: 's', ह: 'h',
};
// With a nukta (़) some consonants become Perso-Arabic or flapped sounds. ड़/ढ़ are written "d"
// in Hinglish far more often than "r" ("papdi", "rabdi"), so that is what they become.
const NUKTA: Record<string, string> = { क: 'q', ख: 'kh', ग: 'g', ज: 'z', ड: 'd', ढ: 'dh', फ: 'f', य: 'y' };
const INDEPENDENT_VOWELS: Record<string, string> = {
  अ: 'a', आ: 'aa', इ: 'i', ई: 'ee', उ: 'u', ऊ: 'oo', ऋ: 'ri', ए: 'e', ऐ: 'ai', ओ: 'o', औ: 'au', ऑ: 'o', ऍ: 'e',
};
const VOWEL_SIGNS: Record<string, string> = {
  'ा': 'aa', 'ि': 'i', 'ी': 'ee', 'ु': 'u', 'ू': 'oo', 'ृ': 'ri', 'े': 'e', 'ै': 'ai', 'ो': 'o', 'ौ': 'au', 'ॉ': 'o', 'ॅ': 'e',
};
const VIRAMA = '्';
const NUKTA_SIGN = '़';
const NASAL_SIGNS = new Set(['ं', 'ँ']);
const VISARGA = 'ः';

interface Syllable {
  onset: string;
  vowel: string;
  /** The vowel is the consonant's implicit "a" (a candidate for schwa deletion). */
  schwa: boolean;
  coda: string;
}

/** Transliterates one Devanagari word to the Latin spelling a Hinglish writer would likely use. */
export function transliterateDevanagari(word: string): string {
  const syllables: Syllable[] = [];
  const chars = [...word];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const last = syllables[syllables.length - 1];
    if (CONSONANTS[ch] !== undefined) {
      let onset = CONSONANTS[ch];
      if (chars[i + 1] === NUKTA_SIGN) {
        onset = NUKTA[ch] ?? onset;
        i++;
      }
      syllables.push({ onset, vowel: 'a', schwa: true, coda: '' });
    } else if (VOWEL_SIGNS[ch] !== undefined && last) {
      last.vowel = VOWEL_SIGNS[ch];
      last.schwa = false;
    } else if (ch === VIRAMA && last) {
      last.vowel = '';
      last.schwa = false;
    } else if (INDEPENDENT_VOWELS[ch] !== undefined) {
      syllables.push({ onset: '', vowel: INDEPENDENT_VOWELS[ch], schwa: false, coda: '' });
    } else if (NASAL_SIGNS.has(ch) && last) {
      last.coda += 'n';
    } else if (ch === VISARGA && last) {
      last.coda += 'h';
    }
    // anything else (stray marks, zero-width joiners) is dropped
  }
  deleteSchwas(syllables);
  return syllables.map((s) => s.onset + s.vowel + s.coda).join('');
}

/**
 * Hindi does not pronounce every implicit "a": कतली is "katli", not "katali", and a word-final
 * one is silent (भेज = "bhej"). The usual rule of thumb: drop the last one, and drop a medial one
 * that sits between two pronounced vowels.
 */
function deleteSchwas(s: Syllable[]): void {
  if (s.length > 1) {
    const last = s[s.length - 1];
    if (last.schwa && !last.coda) last.vowel = '';
  }
  for (let i = 1; i < s.length - 1; i++) {
    const cur = s[i];
    if (!cur.schwa || cur.coda) continue;
    const prevVoiced = s[i - 1].vowel !== '';
    const next = s[i + 1];
    if (prevVoiced && next.vowel !== '' && !next.schwa) cur.vowel = '';
  }
}

// Loanwords come out of transliteration in a shape too far from their English spelling for the
// fuzzy comparison (केक → "kek", not "cake"); these are the ones a shop hears every day.
const LOANWORDS: Record<string, string> = {
  kek: 'cake', choklet: 'chocolate', chaaklet: 'chocolate', ordar: 'order', aardar: 'order',
  kainsal: 'cancel', kainsil: 'cancel', kanpharm: 'confirm', oke: 'ok', staap: 'stop', staart: 'start',
  maisej: 'message', mesej: 'message', ret: 'rate', kukeez: 'cookies', kukeej: 'cookies',
  braaunee: 'brownie', gipht: 'gift', haimpar: 'hamper', baaks: 'box', boks: 'box', mag: 'mug',
  phrem: 'frame', phreem: 'frame', darjan: 'dozen', pees: 'piece', peesa: 'piece',
};

const DEVANAGARI = /[\u0900-\u097F]/;
const DEVANAGARI_DIGITS = /[०-९]/g;

// ---------------------------------------------------------------------------------------------
// Phonetic key and fuzzy comparison

/**
 * A spelling-insensitive key: aspiration dropped (kh→k, bh→b, th→t), c/k/q merged, w→v, z→j,
 * ph→f, long vowels shortened (ee→i, oo→u) and doubled letters collapsed. So "chaahiye" and
 * "chahiye", "laddoo" and "ladu", "rasgolla" and "rasgulla" end up one vowel apart at most.
 */
export const phoneticKey = remembered(20_000, (word: string): string => {
  let w = word.toLowerCase();
  w = w
    .replace(/ph/g, 'f')
    .replace(/ck/g, 'k')
    .replace(/ch/g, 'C')
    .replace(/sh/g, 's')
    .replace(/([kgbdtjC])h/g, '$1')
    .replace(/c/g, 'k')
    .replace(/q/g, 'k')
    .replace(/z/g, 'j')
    .replace(/w/g, 'v')
    .replace(/x/g, 'ks')
    .replace(/ee/g, 'i')
    .replace(/oo/g, 'u')
    .replace(/C/g, 'c');
  return w.replace(/(.)\1+/g, '$1');
});

/**
 * A pure function of a word that remembers its answers: the same few thousand words come in message
 * after message (and every catalog name word is keyed for every message). At most `limit` answers
 * are kept; when full the memory starts again, so a stream of new words never grows it.
 */
export function remembered<T>(limit: number, compute: (word: string) => T): (word: string) => T {
  const answers = new Map<string, T>();
  return (word) => {
    let answer = answers.get(word);
    if (answer === undefined) {
      if (answers.size >= limit) answers.clear();
      answer = compute(word);
      answers.set(word, answer);
    }
    return answer;
  };
}

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);
// Letters a typist drops or doubles without noticing ("chaiye" for "chahiye", "nai" for "nahi").
const SOFT = new Set(['a', 'e', 'i', 'o', 'u', 'h', 'y']);

/**
 * Weighted edit distance (optimal string alignment). Vowel slips cost half as much as consonant
 * ones because Hinglish has no fixed vowel spelling; a consonant substitution costs more than an
 * insertion because it usually makes a different word ("want" / "went").
 */
let table = new Float64Array(64 * 64); // editCost's table, grown when a pair needs more

export function editCost(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  // The (m+1) × (n+1) table, row by row in one reused array: no allocation per comparison.
  const w = n + 1;
  if (table.length < (m + 1) * w) table = new Float64Array(Math.max((m + 1) * w, table.length * 2));
  const d = table;
  d[0] = 0;
  for (let i = 1; i <= m; i++) d[i * w] = d[(i - 1) * w] + (SOFT.has(a[i - 1]) ? 0.5 : 1);
  for (let j = 1; j <= n; j++) d[j] = d[j - 1] + (SOFT.has(b[j - 1]) ? 0.5 : 1);
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const ca = a[i - 1];
      const cb = b[j - 1];
      const sub = ca === cb ? 0 : VOWELS.has(ca) && VOWELS.has(cb) ? 0.5 : 1.25;
      let best = Math.min(
        d[(i - 1) * w + j - 1] + sub,
        d[(i - 1) * w + j] + (SOFT.has(ca) ? 0.5 : 1),
        d[i * w + j - 1] + (SOFT.has(cb) ? 0.5 : 1),
      );
      if (i > 1 && j > 1 && ca === b[j - 2] && a[i - 2] === cb) best = Math.min(best, d[(i - 2) * w + j - 2] + 1);
      d[i * w + j] = best;
    }
  }
  return d[m * w + n];
}

function isAdjacentSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const diff: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff.push(i);
  return diff.length === 2 && diff[1] === diff[0] + 1 && a[diff[0]] === b[diff[1]] && a[diff[1]] === b[diff[0]];
}

/**
 * Does the key `word` (from the message) plausibly spell the key `target` (from a word list or the
 * catalog)? The first letter must agree — typos there are rare and it keeps "look" from being
 * "book". Short words only tolerate a dropped/added vowel or a swapped pair ("wnat", "wnt"),
 * because one substituted letter turns "want" into "went" or "what".
 */
export function similar(word: string, target: string): boolean {
  if (word === target) return true;
  if (word.length < 3 || target.length < 3 || word[0] !== target[0]) return false;
  if (target.length <= 4) {
    if (isAdjacentSwap(word, target)) return true;
    return Math.abs(word.length - target.length) === 1 && editCost(word, target) <= 0.5;
  }
  // Up to 8 letters: two vowel slips, or one consonant slip — not both ("karna" is not "kharidna").
  const budget = target.length <= 5 ? 1 : target.length <= 8 ? 1.25 : 1.75;
  // Each letter one has and the other lacks costs at least 0.5: too far apart in length is never similar.
  if (Math.abs(word.length - target.length) * 0.5 > budget) return false;
  return editCost(word, target) <= budget;
}

// Everyday English and Hinglish words. Each is one slip away from some keyword or product word
// ("can"/"kahan", "pick"/"pic", "delivery"/"deliver", "karna"/"kharidna", "went"/"want",
// "son"/"soan"), and being common they are far more likely meant as themselves than as a typo:
// they only ever match exactly.
const COMMON_WORDS = new Set(
  [
    // English
    'a', 'am', 'an', 'and', 'any', 'are', 'as', 'ask', 'at', 'be', 'been', 'but', 'by', 'call', 'came', 'can',
    'come', 'coming', 'could', 'day', 'did', 'do', 'does', 'done', 'down', 'for', 'from', 'gave', 'give', 'go',
    'going', 'gone', 'good', 'got', 'had', 'has', 'have', 'he', 'her', 'here', 'him', 'his', 'home', 'how', 'if',
    'in', 'into', 'is', 'it', 'just', 'keep', 'know', 'let', 'look', 'made', 'make', 'many', 'may', 'me', 'might',
    'more', 'much', 'must', 'my', 'name', 'new', 'nice', 'none', 'not', 'note', 'noted', 'now', 'of', 'off', 'old',
    'on', 'one', 'only', 'or', 'our', 'out', 'over', 'paid', 'party', 'pay', 'people', 'pick', 'place', 'put',
    'said', 'same', 'say', 'see', 'sent', 'she', 'should', 'so', 'some', 'soon', 'take', 'tell', 'than',
    'that', 'the', 'their', 'them', 'then', 'there', 'these', 'they', 'think', 'this', 'those', 'time', 'to',
    'today', 'told', 'too', 'up', 'us', 'very', 'wait', 'was', 'we', 'week', 'well', 'went', 'were', 'what', 'when',
    'where', 'which', 'who', 'why', 'will', 'with', 'would', 'you', 'your', 'delivery', 'deliveries', 'delivered',
    'ordered', 'booked', 'bought', 'wanted', 'started', 'stopped', 'subscribed', 'unsubscribed', 'stock', 'star',
    'dont', 'okay', 'need',
    // Hinglish
    'aaj', 'aap', 'abhi', 'bhai', 'bhi', 'chal', 'de', 'dena', 'diya', 'gaya', 'gayi', 'hai', 'hain', 'ho', 'hum',
    'ka', 'kal', 'kar', 'kare', 'karna', 'karne', 'karni', 'karo', 'ke', 'ki', 'ko', 'koi', 'kuch', 'lana', 'lane',
    'le', 'liya', 'lo', 'main', 'mein', 'mera', 'mujhe', 'par', 'pe', 'raha', 'rahi', 'rahe', 'se', 'tha', 'thi',
    'toh', 'wala', 'wali', 'woh', 'yeh',
  ].map(phoneticKey),
);

export function isCommonWord(key: string): boolean {
  return COMMON_WORDS.has(key);
}

/** Plural-insensitive key, for catalog names and units ("cakes" = "cake", "boxes" ≈ "box"). */
export function singularKey(word: string): string {
  const w = word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
  return phoneticKey(w);
}

// ---------------------------------------------------------------------------------------------
// Tokenising

// English contractions, with and without the apostrophe, expanded so negation is always a
// separate "not" ("dont want" and "don't want" look the same to the rules).
const CONTRACTIONS: Record<string, string[]> = {
  dont: ['do', 'not'], doesnt: ['does', 'not'], didnt: ['did', 'not'], wont: ['will', 'not'],
  cant: ['can', 'not'], cannot: ['can', 'not'], isnt: ['is', 'not'], arent: ['are', 'not'],
  wasnt: ['was', 'not'], shouldnt: ['should', 'not'], wouldnt: ['would', 'not'], havent: ['have', 'not'],
  im: ['i', 'am'], ive: ['i', 'have'], id: ['i', 'would'], youre: ['you', 'are'],
  whats: ['what', 'is'], thats: ['that', 'is'], its: ['it', 'is'], lets: ['let', 'us'],
  wanna: ['want', 'to'], gonna: ['going', 'to'],
};
// Only with an apostrophe: without one these are ordinary words ("ill", "well", "were", "hell").
const APOSTROPHE_ONLY: Record<string, string[]> = {
  "i'll": ['i', 'will'], "we'll": ['we', 'will'], "we're": ['we', 'are'], "we'd": ['we', 'would'],
  "you'll": ['you', 'will'], "he's": ['he', 'is'], "she's": ['she', 'is'],
};

const YES_EMOJI = new Set(['👍', '👌', '✅', '✔', '☑', '🆗', '🙌']);
const NO_EMOJI = new Set(['❌', '👎', '✖', '🚫', '⛔', '❎']);
const SEPARATORS = new Set([',', '.', ';', '!', '?', '\n', '।', '॥']);

const TOKEN_RE =
  /(\d+(?:\.\d+)?(?:\/\d+)?)|([\p{L}\p{M}]+(?:['’][\p{L}]+)*)|([,.;!?\n।॥&+\-:*=/])|(\p{Extended_Pictographic})|(½)/gu;

function wordToken(text: string): Token {
  return { kind: 'word', text, key: phoneticKey(text) };
}

function expandWord(raw: string): Token[] {
  let w = raw.replace(/’/g, "'");
  if (DEVANAGARI.test(w)) {
    const latin = transliterateDevanagari(w);
    return [wordToken(LOANWORDS[latin] ?? latin)];
  }
  if (APOSTROPHE_ONLY[w]) return APOSTROPHE_ONLY[w].map(wordToken);
  const bare = w.replace(/'/g, '');
  if (CONTRACTIONS[bare] && (w.includes("'") || bare !== 'id')) return CONTRACTIONS[bare].map(wordToken);
  // "n't" forms not listed above ("needn't"), then possessives ("son's" → "son").
  if (/n't$/.test(w)) return [wordToken(w.slice(0, -3)), wordToken('not')];
  w = w.replace(/'s$/, '').replace(/'/g, '');
  return w ? [wordToken(w)] : [];
}

function parseNumber(s: string): number {
  if (s.includes('/')) {
    const [a, b] = s.split('/').map(Number);
    return b ? a / b : a;
  }
  return Number(s);
}

/** Splits a message into tokens. Emoji other than yes/no ones, and other symbols, are dropped. */
export function tokenize(message: string): Token[] {
  const text = message
    .normalize('NFC')
    .toLowerCase()
    .replace(DEVANAGARI_DIGITS, (d) => String(d.charCodeAt(0) - 0x0966));
  const tokens: Token[] = [];
  let skipSuffixAt = -1;
  for (const m of text.matchAll(TOKEN_RE)) {
    const at = m.index ?? 0;
    const [whole, num, word, punct, emoji, half] = m;
    if (at === skipSuffixAt) continue;
    if (num !== undefined) {
      const end = at + whole.length;
      // "25th", "2nd": a date or a rank, never a quantity; the suffix is not a word either.
      const ordinal = /^(st|nd|rd|th)(?![\p{L}])/u.test(text.slice(end));
      if (ordinal) skipSuffixAt = end;
      tokens.push({ kind: 'num', text: num, key: num, value: parseNumber(num), ordinal });
    } else if (word !== undefined) {
      tokens.push(...expandWord(word));
    } else if (punct !== undefined) {
      if (SEPARATORS.has(punct)) tokens.push({ kind: 'sep', text: punct, key: punct });
      else if (punct === '&' || punct === '+') tokens.push(wordToken('and'));
      else tokens.push({ kind: 'punct', text: punct, key: punct });
    } else if (emoji !== undefined) {
      if (YES_EMOJI.has(emoji)) tokens.push({ kind: 'emoji', text: 'emoji_yes', key: 'emoji_yes' });
      else if (NO_EMOJI.has(emoji)) tokens.push({ kind: 'emoji', text: 'emoji_no', key: 'emoji_no' });
    } else if (half !== undefined) {
      tokens.push({ kind: 'num', text: half, key: half, value: 0.5 });
    }
  }
  return tokens;
}
