import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectIntent, type CatalogEntry, type Intent } from './intent.js';
import { editCost, phoneticKey, similar, tokenize, transliterateDevanagari } from './text.js';

const catalog: CatalogEntry[] = [
  { id: 'choc', name: 'Chocolate cake', aliases: ['choco cake'] },
  { id: 'bf', name: 'Black forest cake' },
  { id: 'rv', name: 'Red velvet cake' },
  { id: 'cookies', name: 'Chocolate chip cookies', aliases: ['cookies'] },
  { id: 'cup', name: 'Cupcake' },
  { id: 'brownie', name: 'Brownie' },
  { id: 'kk', name: 'Kaju katli', aliases: ['kaju barfi'] },
  { id: 'gj', name: 'Gulab jamun' },
  { id: 'ras', name: 'Rasgulla' },
  { id: 'besan', name: 'Besan ladoo' },
  { id: 'moti', name: 'Motichoor ladoo' },
  { id: 'jalebi', name: 'Jalebi' },
  { id: 'mug', name: 'Customised photo mug', aliases: ['photo mug'] },
  { id: 'frame', name: 'Photo frame' },
  { id: 'hamper', name: 'Diwali gift hamper', aliases: ['gift hamper'] },
];

const intentOf = (text: string, products: CatalogEntry[] = catalog): Intent => detectIntent(text, products).intent;
/** Items as "id×quantity", sorted, for compact assertions. */
const itemsOf = (text: string, products: CatalogEntry[] = catalog): string[] =>
  detectIntent(text, products)
    .items.map((i) => `${i.product_id}×${i.quantity}`)
    .sort();

function expectIntent(intent: Intent, messages: string[]): void {
  for (const m of messages) assert.equal(intentOf(m), intent, `"${m}" should be ${intent}`);
}

// --- Orders ---------------------------------------------------------------------------------

test('order: English order verbs', () => {
  expectIntent('order', [
    'I want 2 chocolate cakes',
    'I need a cake for tomorrow',
    'Order 1 black forest cake',
    'buy 3 brownies',
    'I would like to purchase a red velvet cake',
    'Please book 1 gulab jamun box for Sunday',
    'Can I get a dozen cupcakes?',
    "I'll take 2 brownies",
    'could you send 2 kg jalebi',
    'can you make a chocolate cake with my name on it',
    'Looking for a cake for 20 people',
  ]);
});

test('order: Hinglish', () => {
  expectIntent('order', [
    'mujhe ek chocolate cake chahiye',
    'kaju katli chaiye',
    '2 kg rasgulla chahie',
    'jalebi bhejo',
    '1 kg jalebi bhej do',
    'cake book karna hai',
    '2 dabba gulab jamun mangwana hai',
    'order karna hai',
  ]);
});

test('order: Devanagari', () => {
  expectIntent('order', ['मुझे एक चॉकलेट केक चाहिए', 'दो किलो गुलाब जामुन भेज दो', 'काजू कतली लेना है', 'केक ऑर्डर करना है']);
  assert.deepEqual(itemsOf('मुझे तीन किलो जलेबी चाहिए'), ['jalebi×3']);
  assert.deepEqual(itemsOf('दो किलो गुलाब जामुन भेज दो'), ['gj×2']);
  assert.deepEqual(itemsOf('काजू कतली 1 किलो ऑर्डर करना है'), ['kk×1']);
});

test('order: products named without a verb', () => {
  expectIntent('order', ['2 kg kaju katli', 'Black forest 1 kg, eggless', 'chocolate cake please']);
});

test('order with a confirmation in the same message stays an order and confirms', () => {
  for (const m of ['yes I want 2 chocolate cakes, confirm', 'haan 2 kaju katli box chahiye', 'Yes, book 1 red velvet']) {
    const r = detectIntent(m, catalog);
    assert.equal(r.intent, 'order', m);
    assert.equal(r.confirms, true, m);
  }
  assert.equal(detectIntent('I want 2 chocolate cakes', catalog).confirms, false);
});

test('the brief example with a catalog that has a plain "Cake"', () => {
  const r = detectIntent('yes I want 2 cakes, confirm', [{ id: 'c', name: 'Cake' }]);
  assert.equal(r.intent, 'order');
  assert.equal(r.confirms, true);
  assert.deepEqual(r.items, [{ product_id: 'c', name: 'Cake', quantity: 2 }]);
});

// --- Negation -------------------------------------------------------------------------------

test('negation makes an order not an order', () => {
  for (const m of [
    "I don't want it",
    'dont need',
    'no need',
    'nahi chahiye',
    'नहीं चाहिए',
    'not ordering',
    "I'm not ordering now",
    'kaju katli nahi chahiye ab',
    'mat bhejo',
    "don't send the cake",
    'I do not really want the cake',
    'order nahi karna',
  ]) {
    const intent = intentOf(m);
    assert.notEqual(intent, 'order', `"${m}" must not be an order`);
    assert.equal(intent, 'decline', `"${m}" should be a decline`);
  }
});

test('a negated product is left out of the order', () => {
  assert.deepEqual(itemsOf('I want the red velvet, not the black forest'), ['rv×1']);
  assert.deepEqual(itemsOf("don't want black forest, send chocolate cake"), ['choc×1']);
  assert.deepEqual(itemsOf('cancel the black forest and send 2 chocolate cakes instead'), ['choc×2']);
});

test('a "no" opening the message does not cancel the order that follows', () => {
  const r = detectIntent('No, I want 1 more brownie', catalog);
  assert.equal(r.intent, 'order');
  assert.deepEqual(r.items, [{ product_id: 'brownie', name: 'Brownie', quantity: 1 }]);
});

// --- Confirm / decline ----------------------------------------------------------------------

test('confirm', () => {
  expectIntent('confirm', [
    'yes', 'YES!', 'yess', 'ok', 'Okay', 'okk', 'k', 'confirm', 'Confirmed', 'proceed', 'go ahead', 'haan', 'haa',
    'ha ji', 'hanji', 'theek hai', 'thik h', 'done', '👍', '✅', 'हाँ', 'हाँ जी', 'ठीक है', 'yes confirm the order',
    'order confirm kar do', 'no problem, go ahead', 'haan bhej do',
  ]);
  assert.equal(detectIntent('yes', catalog).confirms, true);
});

test('decline', () => {
  expectIntent('decline', [
    'no', 'No.', 'nope', 'nahi', 'na', 'cancel', 'Cancel order', 'please cancel my order', 'cancel kar do',
    'rehne do', 'not interested', 'no thanks', '❌', 'नहीं', 'order रद्द करो', 'changed my mind', 'stop my order please',
  ]);
});

// --- Opt-out / opt-in -----------------------------------------------------------------------

test('STOP and START as the whole message win, whatever the case', () => {
  for (const m of ['STOP', 'stop', 'Stop.', 'STOP!!', ' stop please ']) assert.equal(intentOf(m), 'opt_out', m);
  for (const m of ['START', 'start', 'Start!', 'START please']) assert.equal(intentOf(m), 'opt_in', m);
  // even with an order-looking catalog word elsewhere in the lexicon
  assert.equal(intentOf('STOP', [{ id: 's', name: 'Stop' }]), 'opt_out');
});

test('opt-out and opt-in phrasings', () => {
  expectIntent('opt_out', [
    'unsubscribe', 'UNSUBSCRIBE', 'stop messages', 'Stop msgs pls', 'please stop sending me these messages',
    "don't send me any more messages", 'messages band karo', 'बंद करो', 'मैसेज बंद करो', 'opt out',
  ]);
  expectIntent('opt_in', ['subscribe', 'start messages', 'Start sending updates again', 'शुरू करो', 'opt in']);
});

test('"stop" inside a longer sentence is not an opt-out', () => {
  for (const m of ["don't stop the cake order", 'stop my order please', 'please stop the black forest, send red velvet']) {
    assert.notEqual(intentOf(m), 'opt_out', m);
  }
});

// --- Not orders -----------------------------------------------------------------------------

test('questions, greetings and information requests are not orders', () => {
  expectIntent('other', [
    'Hi', 'Namaste 🙏', 'How much is the chocolate cake?', 'Price of 1 kg kaju katli?', 'kaju katli kitne ki hai',
    'What are your shop timings?', 'Do you deliver to Noida?', 'Do u have rasgulla today', 'send me your menu',
    'menu bhejo', 'photo bhejo red velvet ki', 'Is my order ready?', 'mera order kab milega',
    'I want to know the price of gift hampers', 'Do you need advance payment?', 'Do you take bulk orders?',
    'जलेबी का रेट क्या है', 'The red velvet was amazing', 'Is it okay if I pick up at 8?', 'saw your page on facebook',
    'I need to change the delivery time',
  ]);
});

// --- Typos, case, emoji ---------------------------------------------------------------------

test('typos', () => {
  assert.equal(intentOf('ordr 2 chocolate caks'), 'order');
  assert.deepEqual(itemsOf('ordr 2 chocolate caks'), ['choc×2']);
  assert.equal(intentOf('wnat 3 brownies'), 'order');
  assert.equal(intentOf('kaju katli chaiye'), 'order');
  assert.equal(intentOf('Confrim'), 'confirm');
  assert.deepEqual(itemsOf('Need 1 choclate cake'), ['choc×1']);
  assert.deepEqual(itemsOf('2 rasgolla'), ['ras×2']);
  assert.deepEqual(itemsOf('motichur laddu 1 kg'), ['moti×1']);
  // …but a real word one letter away is not a typo
  assert.notEqual(intentOf('I went to your shop'), 'order');
  assert.notEqual(intentOf('what'), 'order');
});

test('mixed case, punctuation and emoji', () => {
  assert.deepEqual(itemsOf('CHOCOLATE CAKE 2 KG PLEASE!!!'), ['choc×2']);
  assert.deepEqual(itemsOf('1 Chocolate Cake + 12 Cupcakes 🎂🧁'), ['choc×1', 'cup×12']);
  assert.equal(intentOf('done 👍'), 'confirm');
  assert.equal(intentOf('👍🏽'), 'confirm'); // skin tone
});

// --- Quantities -----------------------------------------------------------------------------

test('quantities written with digits', () => {
  assert.deepEqual(itemsOf('I want 2 chocolate cakes'), ['choc×2']);
  assert.deepEqual(itemsOf('2x brownie'), ['brownie×2']);
  assert.deepEqual(itemsOf('chocolate cake x 2'), ['choc×2']);
  assert.deepEqual(itemsOf('cookies - 3'), ['cookies×3']);
  assert.deepEqual(itemsOf('brownies 6 pcs'), ['brownie×6']);
  assert.deepEqual(itemsOf('500 gm gulab jamun chahiye'), ['gj×0.5']);
});

test('quantities written as English words', () => {
  assert.deepEqual(itemsOf('one dozen brownies'), ['brownie×12']);
  assert.deepEqual(itemsOf('half dozen cupcakes please'), ['cup×6']);
  assert.deepEqual(itemsOf('a dozen cupcakes'), ['cup×12']);
  assert.deepEqual(itemsOf('two red velvet cakes'), ['rv×2']);
  assert.deepEqual(itemsOf('twelve brownies'), ['brownie×12']);
  assert.deepEqual(itemsOf('half kg jalebi'), ['jalebi×0.5']);
});

test('quantities written as Hindi words', () => {
  assert.deepEqual(itemsOf('ek chocolate cake chahiye'), ['choc×1']);
  assert.deepEqual(itemsOf('do kilo jalebi bhej do'), ['jalebi×2']);
  assert.deepEqual(itemsOf('teen dabba kaju katli chahiye'), ['kk×3']);
  assert.deepEqual(itemsOf('char photo frames chahiye'), ['frame×4']);
  assert.deepEqual(itemsOf('paanch gift hamper book karna hai'), ['hamper×5']);
  assert.deepEqual(itemsOf('jalebi dedh kilo bhej dena'), ['jalebi×1.5']);
  assert.deepEqual(itemsOf('aadha kilo rasgulla'), ['ras×0.5']);
  assert.deepEqual(itemsOf('एक डिब्बा रसगुल्ला'), ['ras×1']);
  assert.deepEqual(itemsOf('दो किलो जलेबी'), ['jalebi×2']);
  assert.deepEqual(itemsOf('तीन डिब्बे गुलाब जामुन चाहिए'), ['gj×3']);
});

test('a product named without a number counts once', () => {
  assert.deepEqual(itemsOf('I want to buy kaju katli'), ['kk×1']);
  assert.deepEqual(itemsOf('kal ke liye red velvet cake chahie'), ['rv×1']);
});

test('numbers that are not quantities', () => {
  assert.deepEqual(itemsOf('Please book 1 red velvet cake for 25th March'), ['rv×1']);
  assert.deepEqual(itemsOf('chocolate cake for 6 pm'), ['choc×1']);
  assert.deepEqual(itemsOf('1 photo frame 8x10'), ['frame×1']);
  assert.deepEqual(itemsOf('chocolate cake at 5'), ['choc×1']);
});

// --- Product matching -----------------------------------------------------------------------

test('several products in one message', () => {
  assert.deepEqual(itemsOf('2 chocolate cake aur 1 black forest chahiye'), ['bf×1', 'choc×2']);
  assert.deepEqual(itemsOf('Gulab jamun 1 kg, rasgulla 2 kg'), ['gj×1', 'ras×2']);
  assert.deepEqual(itemsOf('kaju katli 1kg rasgulla 2'), ['kk×1', 'ras×2']);
  assert.deepEqual(itemsOf("I'll take 2 brownies and 2 cupcakes"), ['brownie×2', 'cup×2']);
  assert.deepEqual(itemsOf('ek photo frame aur ek photo mug'), ['frame×1', 'mug×1']);
  assert.deepEqual(itemsOf('3 x cupcake, 2 x brownie'), ['brownie×2', 'cup×3']);
});

test('catalog names are matched tolerantly', () => {
  assert.deepEqual(itemsOf('want 1 blackforest'), ['bf×1']); // run together
  assert.deepEqual(itemsOf('Gulabjamun 2kg bhejna'), ['gj×2']);
  assert.deepEqual(itemsOf('need 2 red velvet'), ['rv×2']); // generic "cake" left out
  assert.deepEqual(itemsOf('kaju barfi 1 kg'), ['kk×1']); // alias
  assert.deepEqual(itemsOf('besan ke laddu 1 kg chahiye'), ['besan×1']); // joiner inside the name
  assert.deepEqual(itemsOf('10 customised mugs chahiye'), ['mug×10']);
  assert.deepEqual(itemsOf('2 cup cakes'), ['cup×2']); // split in two
});

test('a name made only of descriptive words needs two of them', () => {
  assert.deepEqual(itemsOf('3 diwali hampers bhej do'), ['hamper×3']);
  assert.deepEqual(itemsOf('gift hamper x 4'), ['hamper×4']);
  assert.deepEqual(itemsOf('need a gift for diwali'), []);
});

test('a generic word alone names no product', () => {
  const r = detectIntent('I want a cake for my birthday', catalog);
  assert.equal(r.intent, 'order');
  assert.deepEqual(r.items, []);
  assert.deepEqual(itemsOf('need a gift'), []);
  // "chocolate" is shared by two products: the cake (whose other word is generic) is meant
  assert.deepEqual(itemsOf('2 chocolate chahiye'), ['choc×2']);
});

test('items are only reported for orders', () => {
  assert.deepEqual(detectIntent('How much is the chocolate cake?', catalog).items, []);
  assert.deepEqual(detectIntent('kaju katli nahi chahiye', catalog).items, []);
});

test('edge cases: empty text, empty catalog', () => {
  assert.deepEqual(detectIntent('', catalog), { intent: 'other', confirms: false, items: [] });
  assert.deepEqual(detectIntent('   ', []), { intent: 'other', confirms: false, items: [] });
  const r = detectIntent('I want 2 chocolate cakes', []);
  assert.equal(r.intent, 'order');
  assert.deepEqual(r.items, []);
});

test('regressions: everyday words that look like keywords or products', () => {
  assert.equal(intentOf('Can I place an order?'), 'order'); // "can" is not "kahan"
  assert.notEqual(intentOf('Koi offer chal raha hai?'), 'opt_in'); // "chal" is not "chalu"
  assert.equal(intentOf('Eggless option hai kya'), 'other'); // "option" is not "opt in"
  assert.equal(intentOf('Thank you for the chocolate cake!'), 'other');
  assert.equal(intentOf('Gift hampers dikhao'), 'other');
  assert.equal(intentOf('Order no 1234 status'), 'other');
  assert.equal(intentOf('mujhe nahi pata'), 'other'); // "nahi" is not "nah"
  assert.notEqual(intentOf("don't cancel"), 'decline');
  assert.notEqual(intentOf('cancel nahi karna'), 'decline');
  assert.deepEqual(itemsOf('Pls keep 2 kg kaju katli aside for me'), ['kk×2']); // "for me" is not "frame"
  assert.deepEqual(itemsOf("I'll come and pick up 2 kaju katli"), ['kk×2']); // "pick" is not "pic"
  assert.deepEqual(itemsOf('1 kg motichoor'), ['moti×1']);
  assert.deepEqual(itemsOf('1 kg ladoo chahiye'), []); // two ladoos in the catalog: not guessed
  assert.deepEqual(itemsOf('Gift hamper chahiye 10 piece'), ['hamper×10']); // number after the verb
});

// --- Text helpers ---------------------------------------------------------------------------

test('Devanagari transliteration follows Hindi schwa deletion', () => {
  assert.equal(transliterateDevanagari('चाहिए'), 'chaahie');
  assert.equal(transliterateDevanagari('कतली'), 'katlee');
  assert.equal(transliterateDevanagari('भेज'), 'bhej');
  assert.equal(transliterateDevanagari('नमस्ते'), 'namaste');
  assert.equal(transliterateDevanagari('रसगुल्ला'), 'rasgullaa');
});

test('phonetic keys and fuzzy comparison', () => {
  assert.equal(phoneticKey('chaahiye'), phoneticKey('chahiye'));
  assert.equal(phoneticKey('laddoo'), phoneticKey('ladu'));
  assert.ok(similar(phoneticKey('chaiye'), phoneticKey('chahiye')));
  assert.ok(similar(phoneticKey('wnat'), phoneticKey('want')));
  assert.ok(!similar(phoneticKey('went'), phoneticKey('want')));
  assert.ok(!similar(phoneticKey('look'), phoneticKey('book')));
});

// editCost fills one reused array row by row; checked against the weighted edit distance written
// out as a plain table, on known pairs and on random ones of every length up to 14 (longer than the
// array the first call allocates for, and shorter after it).
test('the weighted edit distance', () => {
  const SOFT = new Set('aeiouhy');
  const VOWELS = new Set('aeiou');
  const plain = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++) d[i][0] = d[i - 1][0] + (SOFT.has(a[i - 1]) ? 0.5 : 1);
    for (let j = 1; j <= b.length; j++) d[0][j] = d[0][j - 1] + (SOFT.has(b[j - 1]) ? 0.5 : 1);
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        const sub = a[i - 1] === b[j - 1] ? 0 : VOWELS.has(a[i - 1]) && VOWELS.has(b[j - 1]) ? 0.5 : 1.25;
        d[i][j] = Math.min(d[i - 1][j - 1] + sub, d[i - 1][j] + (SOFT.has(a[i - 1]) ? 0.5 : 1), d[i][j - 1] + (SOFT.has(b[j - 1]) ? 0.5 : 1));
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.length][b.length];
  };
  assert.equal(editCost('want', 'want'), 0);
  assert.equal(editCost('want', 'wnat'), 1); // one swap
  assert.equal(editCost('want', 'went'), 0.5); // one vowel for another
  assert.equal(editCost('kaju', 'kaaju'), 0.5); // a soft letter more
  assert.equal(editCost('', 'bk'), 2);
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const word = () => Array.from({ length: Math.floor(next() * 15) }, () => 'abdehiklnoustuy'[Math.floor(next() * 15)]).join('');
  for (let k = 0; k < 2000; k++) {
    const [a, b] = [word(), word()];
    assert.equal(editCost(a, b), plain(a, b), `${a} / ${b}`);
  }
  // A long pair grows the reused array; short pairs after it still read their own cells.
  assert.equal(editCost('a'.repeat(90), 'b'.repeat(70)), plain('a'.repeat(90), 'b'.repeat(70)));
  assert.equal(editCost('chahiye', 'chaiye'), plain('chahiye', 'chaiye'));
});

test('tokenize splits numbers from units and marks ordinals', () => {
  const t = tokenize("2kg on 25th, don't");
  assert.deepEqual(
    t.map((x) => x.text),
    ['2', 'kg', 'on', '25', ',', 'do', 'not'],
  );
  assert.equal(t[3].ordinal, true);
});

test('a mention two products fit equally is unclear: it is no item, and its candidates are listed', () => {
  const catalog = [{ id: 'p1', name: 'Chocolate cake' }, { id: 'p2', name: 'Chocolate hamper' }, { id: 'p3', name: 'Besan ladoo' }];
  const r = detectIntent('I want 2 chocolate and 1 kg besan ladoo', catalog);
  assert.equal(r.intent, 'order');
  assert.deepEqual(r.items, [{ product_id: 'p3', name: 'Besan ladoo', quantity: 1 }]);
  assert.deepEqual(r.unclear, [{ quantity: 2, candidates: [{ product_id: 'p1', name: 'Chocolate cake' }, { product_id: 'p2', name: 'Chocolate hamper' }] }]);
  // Named in full, it is clear.
  const clear = detectIntent('I want 2 chocolate cakes', catalog);
  assert.deepEqual([clear.items, clear.unclear], [[{ product_id: 'p1', name: 'Chocolate cake', quantity: 2 }], undefined]);
});

// Speed is the bench's business; this checks the cap is there: a 2 MB message used to take
// minutes to read (and held the sender's lock meanwhile).
test('a huge message is read only as far as a chat message goes', () => {
  const r = detectIntent(`I want 2 chocolate cakes ${'x'.repeat(2 * 1024 * 1024)}`, [{ id: 'cake', name: 'Chocolate cake' }] as CatalogEntry[]);
  assert.equal(r.intent, 'order');
  assert.deepEqual(r.items.map((i) => i.quantity), [2]);
});
