// `npm run simulate -- --text "I want 2 chocolate cakes" --from +919876543210`
// Sends a correctly signed WhatsApp Cloud API webhook (the shape Meta sends) to a running Karigar,
// so the inbound flow can be watched without Meta credentials. The channel it targets needs
// account_id = --phone-number-id and webhook_secret = --secret (see the README).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signMeta } from '../src/modules/social/webhooks/signatures.js';

const { values } = parseArgs({
  options: {
    text: { type: 'string' },
    from: { type: 'string', default: '+919876543210' },
    name: { type: 'string', default: 'Ravi' },
    url: { type: 'string', default: process.env.KARIGAR_URL ?? 'http://127.0.0.1:3000' },
    'phone-number-id': { type: 'string', default: process.env.SIMULATE_PHONE_NUMBER_ID ?? 'sandbox-pnid' },
    'display-number': { type: 'string', default: '+919000000000' },
    secret: { type: 'string', default: process.env.SIMULATE_WEBHOOK_SECRET ?? 'sandbox-secret' },
    id: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help || !values.text) {
  console.log(`usage: npm run simulate -- --text "I want 2 chocolate cakes" [--from +919876543210] [--name Ravi]
       [--url http://127.0.0.1:3000] [--phone-number-id sandbox-pnid] [--secret sandbox-secret] [--id wamid.X (replay)]`);
  process.exit(values.text ? 0 : 2);
}

const waId = values.from!.replace(/[^\d]/g, '');
const messageId = values.id ?? `wamid.SIM${randomBytes(12).toString('hex').toUpperCase()}`;
const payload = {
  object: 'whatsapp_business_account',
  entry: [{
    id: 'WABA-SANDBOX',
    changes: [{
      field: 'messages',
      value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: values['display-number']!.replace(/[^\d]/g, ''), phone_number_id: values['phone-number-id'] },
        contacts: [{ profile: { name: values.name }, wa_id: waId }],
        messages: [{ from: waId, id: messageId, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: values.text } }],
      },
    }],
  }],
};
const body = Buffer.from(JSON.stringify(payload));
const res = await fetch(`${values.url!.replace(/\/$/, '')}/api/v1/social/webhook/whatsapp`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(body, values.secret!) },
  body,
});
console.log(`POST /api/v1/social/webhook/whatsapp  message ${messageId} from +${waId}: "${values.text}"`);
console.log(`→ ${res.status} ${await res.text()}`);
process.exit(res.ok ? 0 : 1);
