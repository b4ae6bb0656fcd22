// Real-shaped provider webhooks, signed the way each provider signs them.
import { randomBytes } from 'node:crypto';
import type { App } from '../../src/app.js';
import { signMeta, signTwilio } from '../../src/modules/social/webhooks/signatures.js';

export const newWamid = () => `wamid.HBgM${randomBytes(10).toString('hex').toUpperCase()}`;

export function metaText(phoneNumberId: string, from: string, text: string, opts: { id?: string; name?: string; displayNumber?: string } = {}) {
  const waId = from.replace(/\D/g, '');
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: opts.displayNumber ?? '919000000001', phone_number_id: phoneNumberId },
          contacts: [{ profile: { name: opts.name ?? 'Ravi' }, wa_id: waId }],
          messages: [{ from: waId, id: opts.id ?? newWamid(), timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
        },
      }],
    }],
  };
}

export function metaStatuses(phoneNumberId: string, statuses: { id: string; status: string; recipient?: string }[]) {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '919000000001', phone_number_id: phoneNumberId },
          statuses: statuses.map((s) => ({
            id: s.id, status: s.status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: (s.recipient ?? '919876543210').replace(/\D/g, ''),
          })),
        },
      }],
    }],
  };
}

export async function postMeta(app: App, body: unknown, secret: string | null, opts: { raw?: Buffer; channelType?: string; query?: string; signatureOverride?: string } = {}) {
  const raw = opts.raw ?? Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.signatureOverride !== undefined) headers['x-hub-signature-256'] = opts.signatureOverride;
  else if (secret) headers['x-hub-signature-256'] = signMeta(raw, secret);
  return app.inject({ method: 'POST', url: `/api/v1/social/webhook/${opts.channelType ?? 'whatsapp'}${opts.query ?? ''}`, headers, payload: raw });
}

export async function postTwilio(app: App, fields: Record<string, string>, authToken: string, publicBaseUrl: string) {
  const path = '/api/v1/social/webhook/whatsapp';
  const body = new URLSearchParams(fields).toString();
  return app.inject({
    method: 'POST', url: path, payload: body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilio(`${publicBaseUrl}${path}`, fields, authToken) },
  });
}
