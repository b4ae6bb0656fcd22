// `npm run simulate -- --text "I want 2 chocolate cakes" --from +919876543210`
// Sends a correctly signed WhatsApp Cloud API webhook (the shape Meta sends) to a running Karigar,
// so the inbound flow can be watched without Meta credentials. The channel it targets needs
// account_id = --phone-number-id and webhook_secret = --secret (see the README).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signMeta } from '../src/modules/social/webhooks/signatures.js';
import { metaText } from '../src/modules/social/webhooks/samples.js';

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
const payload = metaText(values['phone-number-id']!, waId, values.text!, { id: messageId, name: values.name, displayNumber: values['display-number'] });
const body = Buffer.from(JSON.stringify(payload));
const res = await fetch(`${values.url!.replace(/\/$/, '')}/api/v1/social/webhook/whatsapp`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(body, values.secret!) },
  body,
});
console.log(`POST /api/v1/social/webhook/whatsapp  message ${messageId} from +${waId}: "${values.text}"`);
console.log(`→ ${res.status} ${await res.text()}`);
process.exit(res.ok ? 0 : 1);
