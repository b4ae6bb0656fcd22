// Provider webhook payloads → one normalized shape (InboundGroup[]). Pure functions over an
// already signature-verified body; PayloadError means "malformed or not this provider's" (400).
export { PayloadError } from './types.js';
export type { InboundGroup, InboundMessage, InboundStatus, ParseOptions } from './types.js';
export { parseMetaWhatsApp } from './meta-whatsapp.js';
export { parseTwilio } from './twilio.js';
export { parseMessenger } from './messenger.js';
export { parseTelegram } from './telegram.js';
