// Meta WhatsApp Cloud webhook payloads in the shape Meta sends them, for `npm run simulate` and the
// tests: one text message, or delivery statuses, for one phone number id.
import { randomBytes } from 'node:crypto';

export const newWamid = () => `wamid.HBgM${randomBytes(10).toString('hex').toUpperCase()}`;

function envelope<V extends object>(phoneNumberId: string, displayNumber: string, value: V) {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: displayNumber.replace(/\D/g, ''), phone_number_id: phoneNumberId },
          ...value,
        },
      }],
    }],
  };
}

export function metaText(phoneNumberId: string, from: string, text: string, opts: { id?: string; name?: string; displayNumber?: string } = {}) {
  const waId = from.replace(/\D/g, '');
  return envelope(phoneNumberId, opts.displayNumber ?? '919000000001', {
    contacts: [{ profile: { name: opts.name ?? 'Ravi' }, wa_id: waId }],
    messages: [{ from: waId, id: opts.id ?? newWamid(), timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
  });
}

export function metaStatuses(phoneNumberId: string, statuses: { id: string; status: string; recipient?: string }[]) {
  return envelope(phoneNumberId, '919000000001', {
    statuses: statuses.map((s) => ({
      id: s.id, status: s.status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: (s.recipient ?? '919876543210').replace(/\D/g, ''),
    })),
  });
}
