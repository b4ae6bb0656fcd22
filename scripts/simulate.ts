// `npm run simulate -- --text "I want 2 chocolate cakes" --from +919876543210`
// Sends a correctly signed webhook, in the shape the provider sends it, to a running Karigar, so the
// inbound flow can be watched without credentials:
//   WhatsApp Cloud API (default): a customer's text, or with --status a delivery status for one of
//     our sends; the channel needs account_id = --phone-number-id and webhook_secret = --secret.
//   Telegram (--telegram CHANNEL_ID): a customer's text in a private chat, or with --share-phone
//     their own number shared as a contact; the channel's webhook_secret = --secret.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signMeta } from '../src/modules/social/webhooks/signatures.js';
import { metaStatuses, metaText } from '../src/modules/social/webhooks/samples.js';

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
    status: { type: 'string' },
    telegram: { type: 'string' },
    chat: { type: 'string', default: '5123456789' },
    'share-phone': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const usage = `usage:
  npm run simulate -- --text "I want 2 chocolate cakes" [--from +919876543210] [--name Ravi]
       [--url http://127.0.0.1:3000] [--phone-number-id sandbox-pnid] [--secret sandbox-secret] [--id wamid.X (replay)]
  npm run simulate -- --status delivered --id <provider_message_id of our send> [--from +919876543210]
  npm run simulate -- --telegram <channel id> --text "2 cakes please" [--chat 5123456789] [--name Kavya] [--secret …]
  npm run simulate -- --telegram <channel id> --share-phone +919876543210 [--chat 5123456789]`;
if (values.help || (!values.text && !values.status && !values['share-phone'])) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}

const base = values.url!.replace(/\/$/, '');
let path: string;
let headers: Record<string, string>;
let body!: Buffer;
let what: string;

if (values.telegram) {
  const chat = Number(values.chat);
  const updateId = Math.floor(Date.now() / 1000);
  const from = { id: chat, is_bot: false, first_name: values.name };
  const message: Record<string, unknown> = {
    message_id: Math.floor(Math.random() * 1e9), from, chat: { id: chat, first_name: values.name, type: 'private' }, date: Math.floor(Date.now() / 1000),
  };
  if (values['share-phone']) message.contact = { phone_number: values['share-phone'].replace(/[^\d+]/g, ''), first_name: values.name, user_id: chat };
  else message.text = values.text;
  body = Buffer.from(JSON.stringify({ update_id: updateId, message }));
  path = `/api/v1/social/webhook/telegram?channel_id=${encodeURIComponent(values.telegram)}`;
  headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': values.secret! };
  what = values['share-phone'] ? `chat ${chat} shares ${values['share-phone']}` : `chat ${chat}: "${values.text}"`;
} else {
  const waId = values.from!.replace(/[^\d]/g, '');
  if (values.status) {
    if (!values.id) {
      console.log('--status needs --id: the provider_message_id of the message (GET /social/messages shows it)');
      process.exit(2);
    }
    body = Buffer.from(JSON.stringify(metaStatuses(values['phone-number-id']!, [{ id: values.id, status: values.status, recipient: waId }])));
    what = `status ${values.status} for ${values.id}`;
  } else {
    const messageId = values.id ?? `wamid.SIM${randomBytes(12).toString('hex').toUpperCase()}`;
    body = Buffer.from(JSON.stringify(metaText(values['phone-number-id']!, waId, values.text!, { id: messageId, name: values.name, displayNumber: values['display-number'] })));
    what = `message ${messageId} from +${waId}: "${values.text}"`;
  }
  path = '/api/v1/social/webhook/whatsapp';
  headers = { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(body, values.secret!) };
}

const res = await fetch(`${base}${path}`, { method: "POST", headers, body: new Uint8Array(body) });
console.log(`POST ${path.split('?')[0]}  ${what}`);
console.log(`→ ${res.status} ${await res.text()}`);
process.exit(res.ok ? 0 : 1);
