// Real-shaped provider webhooks, signed the way each provider signs them.
import type { App } from '../../src/app.js';
import { signMeta, signTwilio } from '../../src/modules/social/webhooks/signatures.js';

export { metaStatuses, metaText, newWamid } from '../../src/modules/social/webhooks/samples.js';

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
