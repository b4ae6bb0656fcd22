import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_TEMPLATES,
  MAX_TEMPLATE_LENGTH,
  TEMPLATE_EVENTS,
  TEMPLATE_LOCALES,
  TEMPLATE_VARIABLES,
  formatMoney,
  pickLocale,
  renderTemplate,
  validateTemplate,
} from './templates.js';

const sampleVars: Record<string, string> = {
  customerName: 'Asha',
  businessName: 'Sweet Crumbs Bakery',
  invoiceNo: 'INV-000042',
  total: '₹1,250.00',
  orderNo: 'PO-000007',
  amount: '₹500.00',
  balance: '₹750.00',
  stepName: 'Decorate',
};

const DEVANAGARI = /[\u0900-\u097F]/;
const DAMAGED = /ğ|Ÿ|�|â€/; // mojibake as in the seed's examples

test('there is an English and a Hindi default for every event, and nothing else', () => {
  assert.deepEqual(Object.keys(DEFAULT_TEMPLATES).sort(), [...TEMPLATE_EVENTS].sort());
  for (const event of TEMPLATE_EVENTS) {
    assert.deepEqual(Object.keys(DEFAULT_TEMPLATES[event]).sort(), [...TEMPLATE_LOCALES].sort(), event);
  }
});

test('every default template is valid and renders with no placeholder left', () => {
  for (const event of TEMPLATE_EVENTS) {
    for (const locale of TEMPLATE_LOCALES) {
      const body = DEFAULT_TEMPLATES[event][locale];
      assert.deepEqual(validateTemplate(body), { ok: true }, `${event}/${locale}`);
      const text = renderTemplate(body, sampleVars);
      assert.ok(!text.includes('{{') && !text.includes('}}'), `${event}/${locale}: ${text}`);
      assert.ok(text.length > 20 && text.length < 600, `${event}/${locale} is short`);
      assert.doesNotMatch(text, DAMAGED, `${event}/${locale} has no damaged characters`);
      assert.ok(!/₹₹/.test(text), `${event}/${locale} writes the currency symbol once`);
    }
  }
});

test('the defaults carry the facts of their event', () => {
  const en = (e: (typeof TEMPLATE_EVENTS)[number]) => renderTemplate(DEFAULT_TEMPLATES[e].en, sampleVars);
  assert.match(en('sale.created'), /INV-000042/);
  assert.match(en('sale.created'), /₹1,250\.00/);
  assert.match(en('sale.created'), /Asha/);
  assert.match(en('production.created'), /PO-000007/);
  assert.match(en('production.step.completed'), /Decorate/);
  assert.match(en('production.completed'), /PO-000007/);
  assert.match(en('order.ready'), /ready/i);
  assert.match(en('payment.received'), /₹500\.00/);
  assert.match(en('payment.received'), /₹750\.00/);
  assert.match(en('lead.ack'), /Sweet Crumbs Bakery/);
  assert.match(en('lead.ack'), /confirm/i);
  assert.match(en('lead.ack'), /soon/i);
});

test('the Hindi defaults are in Devanagari', () => {
  for (const event of TEMPLATE_EVENTS) {
    const text = renderTemplate(DEFAULT_TEMPLATES[event].hi, sampleVars);
    assert.match(text, DEVANAGARI, event);
    assert.notEqual(DEFAULT_TEMPLATES[event].hi, DEFAULT_TEMPLATES[event].en);
  }
  const sale = renderTemplate(DEFAULT_TEMPLATES['sale.created'].hi, { ...sampleVars, customerName: 'आशा' });
  assert.match(sale, /नमस्ते आशा जी/);
  assert.match(sale, /INV-000042/);
  assert.match(sale, /धन्यवाद/);
});

test('lead.ack reads well without a customer name', () => {
  for (const locale of TEMPLATE_LOCALES) {
    const text = renderTemplate(DEFAULT_TEMPLATES['lead.ack'][locale], { businessName: 'Sweet Crumbs Bakery' });
    assert.ok(!/ {2}| ,|, ?!/.test(text), text);
    assert.match(text, /Sweet Crumbs Bakery/);
  }
});

test('TEMPLATE_VARIABLES lists the placeholders the spec names, and stepName', () => {
  for (const v of ['customerName', 'businessName', 'invoiceNo', 'total', 'orderNo', 'amount', 'balance', 'stepName']) {
    assert.ok((TEMPLATE_VARIABLES as readonly string[]).includes(v), v);
  }
});

// ---- rendering -----------------------------------------------------------------------------------

test('render replaces placeholders, with or without spaces inside the braces', () => {
  assert.equal(renderTemplate('Hi {{customerName}}, order {{ orderNo }}{{  total}}', { customerName: 'Asha', orderNo: 'PO-1', total: '!' }), 'Hi Asha, order PO-1!');
  assert.equal(renderTemplate('{{orderNo}} {{orderNo}}', { orderNo: 'PO-1' }), 'PO-1 PO-1');
  assert.equal(renderTemplate('नमस्ते {{customerName}} जी 🙏', { customerName: 'आशा' }), 'नमस्ते आशा जी 🙏');
});

test('render: a missing value becomes empty text', () => {
  assert.equal(renderTemplate('Hi {{customerName}}!', {}), 'Hi !');
  assert.equal(renderTemplate('Hi {{customerName}}!', { customerName: undefined }), 'Hi !');
  assert.equal(renderTemplate('[{{balance}}]', { balance: '' }), '[]');
});

test('render does not read inherited properties or expand values twice', () => {
  assert.equal(renderTemplate('[{{constructor}}][{{toString}}][{{__proto__}}]', {}), '[][][]');
  assert.equal(renderTemplate('Hi {{customerName}}', { customerName: '{{businessName}}', businessName: 'X' }), 'Hi {{businessName}}');
  assert.equal(renderTemplate('$& $1 {{customerName}}', { customerName: '$& $1' }), '$& $1 $& $1');
});

// ---- validation ----------------------------------------------------------------------------------

function errorsOf(body: string): string[] {
  const r = validateTemplate(body);
  assert.equal(r.ok, false, `expected "${body.slice(0, 60)}" to be rejected`);
  return r.ok ? [] : r.errors;
}

test('validate accepts known variables, spaces inside braces, and text without placeholders', () => {
  assert.deepEqual(validateTemplate('Hi {{customerName}}, total {{ total }}.'), { ok: true });
  assert.deepEqual(validateTemplate('Thank you!'), { ok: true });
  assert.deepEqual(validateTemplate(TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(' ')), { ok: true });
});

test('validate rejects an unknown variable and names it', () => {
  const errors = errorsOf('Hi {{foo}} and {{customerName}}');
  assert.equal(errors.length, 1);
  assert.match(errors[0], /\{\{foo\}\}/);
  assert.match(errors[0], /customerName/); // lists the known ones
  assert.match(errorsOf('Hi {{CustomerName}}')[0], /did you mean \{\{customerName\}\}/);
  assert.match(errorsOf('{{customer.name}}')[0], /Unknown variable/);
  assert.match(errorsOf('{{constructor}}')[0], /Unknown variable/);
});

test('validate rejects unbalanced braces', () => {
  for (const body of ['Hi {{customerName}', 'Hi {customerName}}', 'Hi {{customerName', 'Hi customerName}}', 'Hi {{{customerName}}}', 'Hi {customerName}', 'Total: {{total}} }', '{{ {total} }}']) {
    const errors = errorsOf(body);
    assert.ok(errors.some((e) => /Unbalanced|Unclosed/.test(e)), `${body}: ${errors.join('; ')}`);
  }
  assert.match(errorsOf('Hi {{}}')[0], /Empty placeholder/);
  assert.match(errorsOf('Hi {{   }}')[0], /Empty placeholder/);
});

test('validate rejects an empty body', () => {
  for (const body of ['', '   ', '\n\t ']) assert.match(errorsOf(body)[0], /empty/i);
});

test('validate rejects a body over 4096 characters, accepts exactly 4096', () => {
  assert.equal(MAX_TEMPLATE_LENGTH, 4096);
  assert.deepEqual(validateTemplate('a'.repeat(4096)), { ok: true });
  assert.match(errorsOf('a'.repeat(4097))[0], /4096/);
  // An emoji is two UTF-16 units: counted conservatively.
  assert.equal(validateTemplate('🙏'.repeat(2049)).ok, false);
});

test('validate reports every problem at once', () => {
  const errors = errorsOf(`${'x'.repeat(4100)} {{foo}} {{bar}} {{foo}} {oops`);
  assert.equal(errors.length, 4, errors.join('\n')); // length, foo (once), bar, stray brace
});

// ---- money ---------------------------------------------------------------------------------------

test('money: INR in en-IN with Indian digit grouping', () => {
  assert.equal(formatMoney('1250.00', 'INR', 'en-IN'), '₹1,250.00');
  assert.equal(formatMoney('0.00', 'INR', 'en-IN'), '₹0.00');
  assert.equal(formatMoney('5', 'INR', 'en-IN'), '₹5.00');
  assert.equal(formatMoney('99.5', 'INR', 'en-IN'), '₹99.50');
  assert.equal(formatMoney('1234567.89', 'INR', 'en-IN'), '₹12,34,567.89');
  assert.equal(formatMoney('-250.00', 'INR', 'en-IN'), '-₹250.00');
  assert.equal(formatMoney('1250.00', 'inr', 'en_IN'), '₹1,250.00');
});

test('money: INR in hi-IN', () => {
  assert.equal(formatMoney('1250.00', 'INR', 'hi-IN'), '₹1,250.00');
  assert.equal(formatMoney('123456.5', 'INR', 'hi-IN'), '₹1,23,456.50');
  assert.equal(formatMoney('1250.00', 'INR', 'hi'), '₹1,250.00');
});

test('money: USD in en-US and other currencies', () => {
  assert.equal(formatMoney('1250.00', 'USD', 'en-US'), '$1,250.00');
  assert.equal(formatMoney('1234567.8', 'USD', 'en-US'), '$1,234,567.80');
  assert.equal(formatMoney('1250.00', 'USD', 'en-IN'), '$1,250.00');
  assert.equal(formatMoney('1250.00', 'EUR', 'en-IE'), '€1,250.00');
});

test('money: large amounts keep every digit (no float detour)', () => {
  assert.equal(formatMoney('9999999999.99', 'INR', 'en-IN'), '₹9,99,99,99,999.99');
  assert.equal(formatMoney('12345678901234567890.12', 'USD', 'en-US'), '$12,345,678,901,234,567,890.12');
  assert.equal(formatMoney('90071992547409.93', 'USD', 'en-US'), '$90,071,992,547,409.93');
  // Rounded as decimal text: 0.005 is not below half in binary here.
  assert.equal(formatMoney('1.005', 'USD', 'en-US'), '$1.01');
});

test('money: a malformed amount or currency is an error, a malformed locale falls back', () => {
  for (const bad of ['', 'abc', '1,250.00', '₹1250', '1e3', '12.', '.5', 'NaN']) {
    assert.throws(() => formatMoney(bad, 'INR', 'en-IN'), RangeError, bad);
  }
  assert.throws(() => formatMoney('1.00', 'RUPEE', 'en-IN'), RangeError);
  assert.throws(() => formatMoney('1.00', '', 'en-IN'), RangeError);
  assert.equal(formatMoney('1250.00', 'INR', 'not a locale!'), '₹1,250.00');
  assert.equal(formatMoney('1250.00', 'INR', ''), '₹1,250.00');
});

// ---- locale --------------------------------------------------------------------------------------

test("locale: the customer's, else the business's, else English", () => {
  assert.equal(pickLocale('hi', 'en'), 'hi');
  assert.equal(pickLocale('hi-IN', 'en-IN'), 'hi');
  assert.equal(pickLocale('en-IN', 'hi-IN'), 'en');
  assert.equal(pickLocale(null, 'hi-IN'), 'hi');
  assert.equal(pickLocale(undefined, 'hi'), 'hi');
  assert.equal(pickLocale('', 'hi'), 'hi');
  assert.equal(pickLocale(null, null), 'en');
  assert.equal(pickLocale(), 'en');
});

test('locale: an unsupported locale falls through to the next choice', () => {
  assert.equal(pickLocale('ta-IN', 'hi-IN'), 'hi');
  assert.equal(pickLocale('mr', 'en-IN'), 'en');
  assert.equal(pickLocale('ta-IN', 'bn-IN'), 'en');
  assert.equal(pickLocale('xx', undefined), 'en');
  assert.equal(pickLocale('HI_in', null), 'hi');
  assert.equal(pickLocale(' en-GB ', 'hi'), 'en');
});
