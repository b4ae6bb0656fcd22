// Notification templates: the default text per event and locale, the check run when a business
// saves its own, rendering with {{variables}}, money formatting and the choice of locale. Pure.

export const TEMPLATE_EVENTS = [
  'sale.created',
  'production.created',
  'production.step.completed',
  'production.completed',
  'order.ready',
  'payment.received',
  'order.cancelled',
  'lead.ack',
  'lead.ask_which',
  'message.auto_reply',
] as const;
export type TemplateEvent = (typeof TEMPLATE_EVENTS)[number];

export const TEMPLATE_VARIABLES = [
  'customerName',
  'businessName',
  'invoiceNo',
  'total',
  'orderNo',
  'amount',
  'balance',
  'stepName',
  'options',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

export const TEMPLATE_LOCALES = ['en', 'hi'] as const;
export type TemplateLocale = (typeof TEMPLATE_LOCALES)[number];

/** WhatsApp Cloud API `text.body` limit (Telegram's text limit is the same). */
export const MAX_TEMPLATE_LENGTH = 4096;

export function isTemplateEvent(v: string): v is TemplateEvent {
  return (TEMPLATE_EVENTS as readonly string[]).includes(v);
}

export function isTemplateVariable(v: string): v is TemplateVariable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(v);
}

// Money variables ({{total}}, {{amount}}, {{balance}}) arrive already formatted with their currency
// symbol (formatMoney), so the text never writes ₹ itself. *bold* is WhatsApp formatting.
export const DEFAULT_TEMPLATES: Record<TemplateEvent, Record<TemplateLocale, string>> = {
  'sale.created': {
    en:
      '✅ *Order confirmed!*\n\n' +
      'Hi {{customerName}}, thank you for ordering from {{businessName}}.\n\n' +
      'Invoice: {{invoiceNo}}\nTotal: {{total}}\n\n' +
      "We'll keep you updated here as your order moves along.",
    hi:
      '✅ *ऑर्डर कन्फ़र्म हो गया!*\n\n' +
      'नमस्ते {{customerName}} जी, {{businessName}} से ऑर्डर करने के लिए धन्यवाद।\n\n' +
      'इनवॉइस: {{invoiceNo}}\nकुल राशि: {{total}}\n\n' +
      'आपके ऑर्डर की हर अपडेट हम आपको यहीं भेजते रहेंगे।',
  },
  'production.created': {
    en:
      '🛠️ *Work has started!*\n\n' +
      "Hi {{customerName}}, we've started making your order {{orderNo}}. We'll message you as soon as it's done.\n\n" +
      '– {{businessName}}',
    hi:
      '🛠️ *काम शुरू हो गया है!*\n\n' +
      'नमस्ते {{customerName}} जी, हमने आपका ऑर्डर {{orderNo}} बनाना शुरू कर दिया है। पूरा होते ही हम आपको बताएँगे।\n\n' +
      '– {{businessName}}',
  },
  'production.step.completed': {
    en:
      '🔔 *Order update*\n\n' +
      'Hi {{customerName}}, on your order {{orderNo}}: *{{stepName}}* is done.\n\n' +
      '– {{businessName}}',
    hi:
      '🔔 *ऑर्डर अपडेट*\n\n' +
      'नमस्ते {{customerName}} जी, आपके ऑर्डर {{orderNo}} में *{{stepName}}* पूरा हो गया है।\n\n' +
      '– {{businessName}}',
  },
  'production.completed': {
    en:
      '✅ *Your order is made!*\n\n' +
      "Hi {{customerName}}, work on your order {{orderNo}} is complete. We'll let you know as soon as it's ready for pickup or delivery.\n\n" +
      '– {{businessName}}',
    hi:
      '✅ *आपका ऑर्डर बन गया है!*\n\n' +
      'नमस्ते {{customerName}} जी, आपके ऑर्डर {{orderNo}} का काम पूरा हो गया है। पिकअप या डिलीवरी के लिए तैयार होते ही हम आपको बताएँगे।\n\n' +
      '– {{businessName}}',
  },
  'order.ready': {
    en:
      '🎉 *Your order is ready!*\n\n' +
      'Hi {{customerName}}, your order {{orderNo}} is ready for pickup or delivery. See you soon!\n\n' +
      '– {{businessName}}',
    hi:
      '🎉 *आपका ऑर्डर तैयार है!*\n\n' +
      'नमस्ते {{customerName}} जी, आपका ऑर्डर {{orderNo}} पिकअप या डिलीवरी के लिए तैयार है। जल्द मिलते हैं!\n\n' +
      '– {{businessName}}',
  },
  'payment.received': {
    en:
      '💰 *Payment received*\n\n' +
      "Hi {{customerName}}, we've received your payment of {{amount}}. Thank you!\n\n" +
      'Balance due: {{balance}}\n\n' +
      '– {{businessName}}',
    hi:
      '💰 *भुगतान मिल गया*\n\n' +
      'नमस्ते {{customerName}} जी, हमें आपका {{amount}} का भुगतान मिल गया है। धन्यवाद!\n\n' +
      'बकाया राशि: {{balance}}\n\n' +
      '– {{businessName}}',
  },
  // A cancelled draft has no invoice number yet, so the text names the order by its total.
  'order.cancelled': {
    en:
      '❌ *Order cancelled*\n\n' +
      'Hi {{customerName}}, your order for {{total}} has been cancelled. ' +
      'If this is a surprise or you would like to order again, just reply here.\n\n' +
      '– {{businessName}}',
    hi:
      '❌ *ऑर्डर रद्द कर दिया गया*\n\n' +
      'नमस्ते {{customerName}} जी, आपका {{total}} का ऑर्डर रद्द कर दिया गया है। ' +
      'अगर आपको इसकी उम्मीद नहीं थी या आप फिर से ऑर्डर करना चाहते हैं, तो यहीं जवाब दें।\n\n' +
      '– {{businessName}}',
  },
  // A lead may have no name yet, so the acknowledgement does not greet by name.
  'lead.ack': {
    en:
      '🙏 *Thank you for your message!*\n\n' +
      "We've received your order enquiry at {{businessName}}. We'll check the details and confirm with you soon.",
    hi:
      '🙏 *संदेश भेजने के लिए धन्यवाद!*\n\n' +
      '{{businessName}} को आपके ऑर्डर की पूछताछ मिल गई है। हम विवरण देखकर जल्द ही आपसे पुष्टि करेंगे।',
  },
  // An order naming something two products fit equally ("2 chocolate"): ask, never guess.
  // {{options}} lists the candidates ("Chocolate cake or Chocolate hamper").
  'lead.ask_which': {
    en:
      '🙏 *Thank you for your order!*\n\n' +
      'Which one would you like: {{options}}? Reply with the name and {{businessName}} will confirm your order.',
    hi:
      '🙏 *ऑर्डर के लिए धन्यवाद!*\n\n' +
      'आपको कौन-सा चाहिए: {{options}}? नाम लिखकर भेजें, {{businessName}} आपका ऑर्डर कन्फ़र्म करेगा।',
  },
  // The optional automatic answer to an unknown sender's first message that is not an order
  // (switch settings.notifications["message.auto_reply"], off unless the shop turns it on).
  'message.auto_reply': {
    en:
      '🙏 Thank you for writing to {{businessName}}!\n\n' +
      "We've got your message and will reply here soon.",
    hi:
      '🙏 {{businessName}} को संदेश भेजने के लिए धन्यवाद!\n\n' +
      'हमें आपका संदेश मिल गया है, हम जल्द ही यहीं जवाब देंगे।',
  },
};

export function defaultTemplate(event: TemplateEvent, locale: TemplateLocale): string {
  return DEFAULT_TEMPLATES[event][locale];
}

export type TemplateValidation = { ok: true } | { ok: false; errors: string[] };

/**
 * Checks a template a business wants to save: not empty, at most 4096 characters (counted in
 * UTF-16 units, the stricter reading: an emoji counts as two), every `{{ name }}` a known variable,
 * and no brace outside a complete `{{…}}` placeholder (catches `{{name}`, `{name}}`, `{{{name}}}`).
 */
export function validateTemplate(body: string): TemplateValidation {
  if (typeof body !== 'string') return { ok: false, errors: ['Template body must be text'] };
  const errors = new Set<string>();
  if (body.trim().length === 0) errors.add('Template body is empty');
  if (body.length > MAX_TEMPLATE_LENGTH) {
    errors.add(`Template body is ${body.length} characters long; WhatsApp allows at most ${MAX_TEMPLATE_LENGTH}`);
  }
  let i = 0;
  while (i < body.length) {
    const pos = i + 1;
    if (body.startsWith('{{', i)) {
      const end = body.indexOf('}}', i + 2);
      if (end === -1) {
        errors.add(`Unclosed "{{" at character ${pos}: placeholders are written {{variableName}}`);
        break;
      }
      const inner = body.slice(i + 2, end);
      i = end + 2;
      if (/[{}]/.test(inner)) {
        errors.add(`Unbalanced braces at character ${pos}: placeholders are written {{variableName}}`);
        continue;
      }
      const name = inner.trim();
      if (name === '') errors.add(`Empty placeholder "{{${inner}}}" at character ${pos}`);
      else if (!isTemplateVariable(name)) errors.add(unknownVariable(name));
    } else if (body[i] === '{' || body[i] === '}') {
      errors.add(`Unbalanced "${body[i]}" at character ${pos}: placeholders are written {{variableName}}`);
      i += body.startsWith('}}', i) ? 2 : 1;
    } else {
      i++;
    }
  }
  return errors.size === 0 ? { ok: true } : { ok: false, errors: [...errors] };
}

function unknownVariable(name: string): string {
  const near = TEMPLATE_VARIABLES.find((v) => v.toLowerCase() === name.toLowerCase());
  const hint = near ? ` (did you mean {{${near}}}?)` : '';
  return `Unknown variable "{{${name}}}"${hint}; known variables: ${TEMPLATE_VARIABLES.join(', ')}`;
}

/**
 * Replaces each `{{name}}` (spaces inside the braces allowed) with its value; a missing value
 * becomes empty text. One pass: a value that itself contains `{{…}}` is not expanded again.
 */
export function renderTemplate(body: string, vars: Record<string, string | undefined>): string {
  return body.replace(/\{\{([^{}]*)\}\}/g, (_m, inner: string) => {
    const name = inner.trim();
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
    return value == null ? '' : String(value);
  });
}

const DECIMAL = /^-?\d+(?:\.\d+)?$/;
const formatters = new Map<string, Intl.NumberFormat>();

// Node 20's Intl (NumberFormat v3) formats a decimal string exactly, with no detour through a
// binary float; TypeScript's ES2022 lib only declares number | bigint.
type DecimalFormatter = { format(value: string): string };

/**
 * Formats an exact decimal string as money for a currency and locale, e.g. ('1250.00', 'INR',
 * 'en-IN') → '₹1,250.00', ('123456.5', 'INR', 'hi-IN') → '₹1,23,456.50'. Large amounts keep every
 * digit; more places than the currency has are rounded half away from zero. A malformed locale
 * falls back to 'en-IN'; a malformed amount or currency code throws a RangeError.
 */
export function formatMoney(amount: string, currency: string, locale: string): string {
  const value = typeof amount === 'string' ? amount.trim() : '';
  if (!DECIMAL.test(value)) throw new RangeError(`Not a decimal amount: ${JSON.stringify(amount)}`);
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) {
    throw new RangeError(`Not an ISO 4217 currency code: ${JSON.stringify(currency)}`);
  }
  return (moneyFormatter(currency.toUpperCase(), locale) as unknown as DecimalFormatter).format(value);
}

function moneyFormatter(currency: string, locale: string): Intl.NumberFormat {
  const tag = typeof locale === 'string' && locale.trim() ? locale.trim().replace(/_/g, '-') : 'en-IN';
  const key = `${tag}|${currency}`;
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(tag, { style: 'currency', currency });
    } catch {
      f = new Intl.NumberFormat('en-IN', { style: 'currency', currency });
    }
    formatters.set(key, f);
  }
  return f;
}

/**
 * The message locale: the customer's if supported, else the business's, else 'en'. Tags are
 * reduced to their language ('hi-IN' → 'hi', 'en_GB' → 'en'); an unsupported one ('ta-IN') falls
 * through to the next choice.
 */
export function pickLocale(customerLocale?: string | null, businessLocale?: string | null): TemplateLocale {
  return supported(customerLocale) ?? supported(businessLocale) ?? 'en';
}

function supported(tag: string | null | undefined): TemplateLocale | undefined {
  if (typeof tag !== 'string') return undefined;
  const language = tag.trim().toLowerCase().split(/[-_]/)[0];
  return (TEMPLATE_LOCALES as readonly string[]).includes(language) ? (language as TemplateLocale) : undefined;
}
