// For local use without credentials: sends nothing, prints the rendered message to the log and
// answers as if the message had been accepted. Only the recipient and the message are logged, never
// the channel (its api_key / api_secret stay out of the log).
import { randomUUID } from 'node:crypto';
import type { CheckResult, OutboundMessage, Provider, ProviderChannel, ProviderLog, SendResult } from './provider.js';

const consoleLog: ProviderLog = (obj, msg) => console.log(JSON.stringify({ ...obj, msg }));

export function createSandboxProvider(log: ProviderLog = consoleLog): Provider {
  return {
    name: 'sandbox',
    async send(_channel: ProviderChannel, msg: OutboundMessage): Promise<SendResult> {
      log({ to: msg.to, text: msg.text, template: msg.template }, 'sandbox message');
      return { ok: true, provider_message_id: `sandbox-${randomUUID()}` };
    },
    async check(): Promise<CheckResult> {
      return { ok: true, info: { provider: 'sandbox', note: 'sends nothing: messages are written to the log' } };
    },
  };
}
