// The one shape every provider's webhook payload is turned into. The parsers are pure: they never
// touch the database or the network, and they throw PayloadError only for a body that is malformed
// or not the provider's shape (the route answers 400). A well-formed payload with unexpected content
// (an unknown message type, a change field we do not handle) parses without error.

export interface InboundMessage {
  provider_message_id: string;          // wamid / MessageSid / mid / `${chat_id}:${message_id}` for Telegram
  from_number: string | null;           // sender's phone digits as given (Meta wa_id/from without '+', Twilio From without 'whatsapp:'), null when only a user id is known
  from_user_id: string | null;          // Meta business-scoped user_id (2026), Messenger/Instagram PSID/IGSID, Telegram from.id
  reply_to: string | null;              // the address to answer on: wa_id digits / PSID / Telegram chat.id
  profile_name: string | null;
  message_type: string;                 // text, button, interactive, image, document, audio, video, sticker, location, reaction, contacts, order, unsupported, … (keep the provider's type for unknown kinds)
  text: string | null;                  // text body; media caption; button text/payload; interactive button_reply/list_reply title; reaction emoji; Telegram text or caption
  timestamp: Date;
  metadata: Record<string, unknown>;    // media id/mime/filename, location lat/long/name, reaction target id, interactive reply id, context (replied-to id), list_reply description, errors for unsupported, referral, etc.
  /**
   * Not a new message but a change to an earlier one: `edit` carries the new text (and type) of
   * `original_message_id`; `delete` (a WhatsApp revoke, a Messenger/Instagram unsend) removes it.
   */
  action?: 'edit' | 'delete';
  original_message_id?: string;
}

export interface InboundStatus {
  provider_message_id: string;
  status: string;                       // provider's word: sent/delivered/read/failed/played (Meta); queued/sent/delivered/read/undelivered/failed (Twilio)
  recipient: string | null;
  timestamp: Date | null;
  error_code: string | null;
  error_message: string | null;
}

export interface InboundGroup {
  // how to find the channel: Meta metadata.phone_number_id (+ display_phone_number), Twilio `To` number (without 'whatsapp:'),
  // Messenger/Instagram entry.id (page / IG account id); Telegram: none (routed by ?channel_id)
  account_id: string | null;
  phone_number: string | null;
  messages: InboundMessage[];
  statuses: InboundStatus[];
}

/** For the payloads that carry no time of their own (a Twilio inbound message, a Telegram button tap). */
export interface ParseOptions {
  /** When the request arrived; default now. */
  receivedAt?: Date;
}

/** The body is malformed or not this provider's shape: the route answers 400. */
export class PayloadError extends Error {
  name = 'PayloadError';
}
