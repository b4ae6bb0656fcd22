import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  parseMessenger,
  parseMetaWhatsApp,
  parseTelegram,
  parseTwilio,
  PayloadError,
  type InboundGroup,
  type InboundMessage,
} from './index.js';

// The fixtures are the exact bytes a provider sends (compact JSON with \uXXXX and \/ escapes for
// Meta and Telegram, form-encoded bodies for Twilio): parse them the way the route does.
const FIXTURES = new URL('../../../../../test/fixtures/payloads/', import.meta.url);
const raw = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const json = (name: string): unknown => JSON.parse(raw(name));
const form = (name: string): Record<string, string> => Object.fromEntries(new URLSearchParams(raw(name)));
const RECEIVED = new Date('2026-01-02T03:04:05.000Z');

const messagesOf = (groups: InboundGroup[]): InboundMessage[] => groups.flatMap((g) => g.messages);
const byType = (groups: InboundGroup[], type: string): InboundMessage => {
  const found = messagesOf(groups).filter((m) => m.message_type === type);
  assert.equal(found.length, 1, `exactly one ${type} message`);
  return found[0];
};
const at = (seconds: number): Date => new Date(seconds * 1000);

// ---------------------------------------------------------------------------------------------
// Fixtures: every file is known here, and parses with its provider's parser

const PARSER_OF: Record<string, (name: string) => InboundGroup[]> = {
  meta: (n) => parseMetaWhatsApp(json(n)),
  twilio: (n) => parseTwilio(form(n), { receivedAt: RECEIVED }),
  messenger: (n) => parseMessenger(json(n)),
  instagram: (n) => parseMessenger(json(n)),
  telegram: (n) => parseTelegram(json(n), { receivedAt: RECEIVED }),
};
const FIXTURE_FILES = [
  'instagram.json', 'messenger.json',
  'meta-batch-two-numbers.json', 'meta-bsuid.json', 'meta-kinds.json', 'meta-statuses-only.json',
  'meta-template-status.json', 'meta-text.json',
  'telegram-callback.json', 'telegram-channel-post.json', 'telegram-contact.json', 'telegram-document.json',
  'telegram-edited.json', 'telegram-group.json', 'telegram-location.json', 'telegram-member.json',
  'telegram-photo.json', 'telegram-text-hindi.json', 'telegram-voice.json', 'telegram.json',
  'twilio-button.txt', 'twilio-inbound.txt', 'twilio-location.txt', 'twilio-media.txt',
  'twilio-status-failed.txt', 'twilio-status.txt',
];

test('every payload fixture is listed here (so each one has tests below) and parses with its provider parser', () => {
  const onDisk = readdirSync(FIXTURES).filter((f) => f !== 'README.md' && f !== 'real').sort();
  assert.deepEqual(onDisk, [...FIXTURE_FILES].sort());
  for (const name of FIXTURE_FILES) {
    const parse = PARSER_OF[name.split(/[-.]/)[0]];
    assert.ok(parse, `${name}: a parser`);
    const groups = parse(name);
    const items = groups.reduce((n, g) => n + g.messages.length + g.statuses.length, 0);
    if (name === 'meta-template-status.json' || name === 'telegram-member.json' || name === 'telegram-channel-post.json') assert.equal(items, 0, name);
    else assert.ok(items > 0, `${name}: at least one message or status`);
  }
});

test('fixtures are byte-exact provider bodies: no trailing newline, Meta-style escapes kept', () => {
  for (const name of FIXTURE_FILES) assert.ok(!raw(name).endsWith('\n'), `${name} ends without a newline`);
  const batch = raw('meta-batch-two-numbers.json');
  assert.ok(batch.includes('\\u20b9') && !batch.includes('₹'), 'non-ASCII escaped as \\uXXXX');
  assert.ok(raw('meta-kinds.json').includes('https:\\/\\/'), 'slashes escaped as \\/');
});

// ---------------------------------------------------------------------------------------------
// Meta WhatsApp Cloud API

test('meta: the doc text message becomes one group routed by phone_number_id', () => {
  const groups = parseMetaWhatsApp(json('meta-text.json'));
  assert.deepEqual(groups, [{
    account_id: '106540352242922',
    phone_number: '15550783881',
    messages: [{
      provider_message_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      from_number: '16505551234',
      from_user_id: null,
      reply_to: '16505551234',
      profile_name: 'Sheena Nelson',
      message_type: 'text',
      text: 'Does it come in another color?',
      timestamp: at(1749416383),
      metadata: {},
    }],
    statuses: [],
  }]);
});

test('meta: a batch with two WABAs routes each change by its own number and pairs each sender with its contact', () => {
  const groups = parseMetaWhatsApp(json('meta-batch-two-numbers.json'));
  assert.deepEqual(groups.map((g) => [g.account_id, g.phone_number, g.messages.length, g.statuses.length]), [
    ['106540352242922', '15550783881', 2, 0],
    ['106540352242922', '15550783881', 0, 2],
    ['110200300400500', '919900112233', 1, 0],
    ['110200300400500', '919900112233', 0, 1],
  ]);
  const [priya, rahul] = groups[0].messages;
  assert.deepEqual([priya.from_number, priya.profile_name, priya.text], ['919876543210', 'Priya Sharma', 'Mujhe 2 kg kaju katli chahiye, ₹ kitna hoga?']);
  assert.deepEqual([rahul.from_number, rahul.profile_name], ['919812345678', 'Rahul Verma']);
  const anita = groups[2].messages[0];
  assert.deepEqual([anita.from_number, anita.reply_to, anita.profile_name, anita.text],
    ['919765432109', '919765432109', 'अनीता', 'हाँ, ऑर्डर कन्फर्म करें 👍']);
  assert.deepEqual(groups[1].statuses.map((s) => [s.status, s.recipient]), [['delivered', '919876543210'], ['read', '919812345678']]);
  assert.deepEqual(groups[3].statuses.map((s) => [s.status, s.recipient, s.timestamp]), [['sent', '919765432109', at(1767072601)]]);
});

test('meta: a statuses-only payload gives statuses and no messages; played is kept as the provider says it', () => {
  const groups = parseMetaWhatsApp(json('meta-statuses-only.json'));
  assert.equal(groups.length, 1);
  assert.equal(groups[0].account_id, '106540352242922');
  assert.deepEqual(groups[0].messages, []);
  assert.deepEqual(groups[0].statuses.map((s) => s.status), ['sent', 'delivered', 'read', 'played', 'failed']);
  for (const s of groups[0].statuses) assert.equal(s.recipient, '16505551234');
  assert.deepEqual(groups[0].statuses[0], {
    provider_message_id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJBMUIyQzNENEU1RjZBN0I4QzkA',
    status: 'sent', recipient: '16505551234', timestamp: at(1750030073), error_code: null, error_message: null,
  });
});

test('meta: a failed status carries the error code and its message with details', () => {
  const failed = parseMetaWhatsApp(json('meta-statuses-only.json'))[0].statuses.find((s) => s.status === 'failed');
  assert.deepEqual(failed, {
    provider_message_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA',
    status: 'failed',
    recipient: '16505551234',
    timestamp: at(1751142888),
    error_code: '131049',
    error_message: 'This message was not delivered to maintain healthy ecosystem engagement. In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
  });
});

test('meta: a username user with only a business-scoped user id (no from, no wa_id) is kept by user id', () => {
  const [onlyId] = parseMetaWhatsApp(json('meta-bsuid.json'))[0].messages;
  assert.deepEqual(onlyId, {
    provider_message_id: 'wamid.HBgXSU4uMTM0OTEyMDg2NTUzMDI3NDE5MTgVAgASGBQzQUJDMTIzNDU2Nzg5MEFCQ0RFRgA=',
    from_number: null,
    from_user_id: 'IN.13491208655302741918',
    reply_to: 'IN.13491208655302741918',
    profile_name: 'Asha',
    message_type: 'text',
    text: 'Do you deliver to Pune? 3 dozen cupcakes chahiye',
    timestamp: at(1775635200),
    metadata: { username: 'asha.bakes' },
  });
});

test('meta: a sender with both a number and a user id keeps both, answers on the number, and keeps the parent id', () => {
  const [, both, statuses] = parseMetaWhatsApp(json('meta-bsuid.json'));
  const m = both.messages[0];
  assert.deepEqual([m.from_number, m.from_user_id, m.reply_to, m.profile_name, m.text],
    ['919811122233', 'IN.88217736455012983311', '919811122233', 'Ravi Kumar', 'STOP']);
  assert.deepEqual(m.metadata, { username: 'ravi_k', parent_user_id: 'IN.ENT.11815799212886844830' });
  assert.deepEqual(statuses.statuses.map((s) => [s.status, s.recipient, s.error_code]), [
    ['delivered', 'IN.13491208655302741918', null], // recipient_user_id only
    ['failed', '919811122233', '131047'],
  ]);
});

test('meta: the user id is taken from contacts[].user_id when the message lacks from_user_id, and a BSUID in `from` is not a number', () => {
  const value = (message: Record<string, unknown>, contact: Record<string, unknown>) => ({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
      contacts: [contact], messages: [{ id: 'wamid.X', timestamp: '1775635200', type: 'text', text: { body: 'hi' }, ...message }] } }] }],
  });
  const fromContact = parseMetaWhatsApp(value({}, { profile: { name: 'Asha' }, user_id: 'US.13491208655302741918' }))[0].messages[0];
  assert.deepEqual([fromContact.from_number, fromContact.from_user_id, fromContact.reply_to], [null, 'US.13491208655302741918', 'US.13491208655302741918']);
  const inFrom = parseMetaWhatsApp(value({ from: 'US.13491208655302741918' }, { profile: { name: 'Asha' } }))[0].messages[0];
  assert.deepEqual([inFrom.from_number, inFrom.from_user_id, inFrom.profile_name], [null, 'US.13491208655302741918', 'Asha']);
});

test('meta: every message kind of the spec is read (one of each in meta-kinds.json)', () => {
  const groups = parseMetaWhatsApp(json('meta-kinds.json'));
  assert.equal(groups.length, 1);
  assert.deepEqual(messagesOf(groups).map((m) => m.message_type), [
    'text', 'interactive', 'interactive', 'button', 'image', 'document', 'audio', 'video', 'sticker', 'location',
    'reaction', 'contacts', 'order', 'unsupported', 'request_welcome',
  ]);
  for (const m of messagesOf(groups)) {
    assert.equal(m.from_number, '919876543210');
    assert.equal(m.reply_to, '919876543210');
    assert.equal(m.profile_name, 'Priya Sharma');
    assert.match(m.provider_message_id, /^wamid\./);
    assert.ok(m.timestamp instanceof Date && !Number.isNaN(m.timestamp.getTime()));
  }
});

test('meta kind text: the body, with the click-to-WhatsApp ad referral in metadata', () => {
  const m = byType(parseMetaWhatsApp(json('meta-kinds.json')), 'text');
  assert.equal(m.text, 'Namaste! 2 kaju katli boxes chahiye, ₹500 tak');
  assert.deepEqual(Object.keys(m.metadata), ['referral']);
  assert.equal((m.metadata.referral as Record<string, unknown>).source_type, 'ad');
  assert.equal((m.metadata.referral as Record<string, unknown>).headline, 'Diwali sweets — order on WhatsApp');
});

test('meta kind interactive: button_reply and list_reply give the title as text, the reply id, and the replied-to message', () => {
  const [button, list] = messagesOf(parseMetaWhatsApp(json('meta-kinds.json'))).filter((m) => m.message_type === 'interactive');
  assert.equal(button.text, 'Confirm');
  assert.deepEqual(button.metadata, {
    interactive_type: 'button_reply', reply_id: 'confirm-order',
    context_message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSQlVTSU5FU1NNU0cwMDAwMDEA', context_from: '15550783881',
  });
  assert.equal(list.text, 'Priority Mail Express');
  assert.deepEqual(list.metadata, {
    interactive_type: 'list_reply', reply_id: 'priority_express', description: 'Next Day to 2 Days',
    context_message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSQlVTSU5FU1NNU0cwMDAwMDEA', context_from: '15550783881',
  });
});

test('meta kind button (template quick reply): the text, the payload, and the template message it answers', () => {
  const m = byType(parseMetaWhatsApp(json('meta-kinds.json')), 'button');
  assert.equal(m.text, 'Unsubscribe');
  assert.deepEqual(m.metadata, {
    button_payload: 'Unsubscribe',
    context_message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSVEVNUExBVEUwMDAwMDEA', context_from: '15550783881',
  });
});

test('meta kinds image, document, audio, video, sticker: caption as text, media id / mime / sha256 / filename in metadata', () => {
  const groups = parseMetaWhatsApp(json('meta-kinds.json'));
  const image = byType(groups, 'image');
  assert.equal(image.text, 'Is design ka cake');
  assert.deepEqual(image.metadata, { media_id: '1003383421387256', mime_type: 'image/jpeg', sha256: 'HgY2S/xTgoPXLSpVtZ1hqjv8aS2sTdNiUvOS1dMFpb8=' });
  const doc = byType(groups, 'document');
  assert.equal(doc.text, 'Order list');
  assert.deepEqual([doc.metadata.media_id, doc.metadata.mime_type, doc.metadata.filename], ['1221834855812307', 'application/pdf', 'order-list.pdf']);
  const audio = byType(groups, 'audio');
  assert.equal(audio.text, null);
  assert.deepEqual([audio.metadata.media_id, audio.metadata.mime_type, audio.metadata.voice], ['1387411815568427', 'audio/ogg; codecs=opus', true]);
  const video = byType(groups, 'video');
  assert.deepEqual([video.text, video.metadata.media_id], ['Packing video', '1147390126864453']);
  const sticker = byType(groups, 'sticker');
  assert.deepEqual([sticker.text, sticker.metadata.media_id, sticker.metadata.animated], [null, '1245874509911562', false]);
});

test('meta kind location: latitude and longitude as numbers, name, address and url', () => {
  const m = byType(parseMetaWhatsApp(json('meta-kinds.json')), 'location');
  assert.equal(m.text, null);
  assert.deepEqual(m.metadata, {
    latitude: 18.5196, longitude: 73.8553, name: 'Sweet Home Bakery', address: 'Shop 4, MG Road, Pune 411001',
    url: 'https://maps.google.com/?q=18.5196,73.8553',
  });
});

test('meta kind reaction: the emoji as text and the reacted-to message id; a removed reaction has no emoji', () => {
  const m = byType(parseMetaWhatsApp(json('meta-kinds.json')), 'reaction');
  assert.equal(m.text, '❤️');
  assert.deepEqual(m.metadata, { reacted_message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSQlVTSU5FU1NNU0cwMDAwMDEA' });
  const removed = parseMetaWhatsApp(oneMessage({ type: 'reaction', reaction: { message_id: 'wamid.T', emoji: '' } }))[0].messages[0];
  assert.deepEqual([removed.text, removed.metadata], [null, { reacted_message_id: 'wamid.T', reaction_removed: true }]);
});

test('meta kinds contacts, order, unsupported, request_welcome: kept with their type and their content in metadata', () => {
  const groups = parseMetaWhatsApp(json('meta-kinds.json'));
  const contacts = byType(groups, 'contacts');
  assert.equal(contacts.text, null);
  assert.equal(((contacts.metadata.contacts as Record<string, any>[])[0].phones[0]).wa_id, '919820012345');
  const order = byType(groups, 'order');
  assert.equal(order.text, 'Friday tak deliver karna');
  assert.equal((order.metadata.order as Record<string, any>).product_items.length, 2);
  const unsupported = byType(groups, 'unsupported');
  assert.deepEqual([unsupported.text, (unsupported.metadata.errors as Record<string, any>[])[0].code], [null, 131051]);
  const welcome = byType(groups, 'request_welcome');
  assert.deepEqual([welcome.text, welcome.metadata], [null, {}]);
});

test('meta: a kind Meta adds later keeps its type and its object; forwarded flags are kept', () => {
  const m = parseMetaWhatsApp(oneMessage({
    type: 'poll_vote', poll_vote: { option: 'A' }, context: { forwarded: true, frequently_forwarded: true },
  }))[0].messages[0];
  assert.equal(m.message_type, 'poll_vote');
  assert.deepEqual(m.metadata, { poll_vote: { option: 'A' }, forwarded: true, frequently_forwarded: true });
});

test('meta: other change fields give no group, and a messages change with only system errors gives an empty group', () => {
  assert.deepEqual(parseMetaWhatsApp(json('meta-template-status.json')), []);
  const groups = parseMetaWhatsApp({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
    errors: [{ code: 130429, title: 'Rate limit hit', message: 'Rate limit hit' }] } }] }] });
  assert.deepEqual(groups, [{ account_id: '106540352242922', phone_number: '15550783881', messages: [], statuses: [] }]);
});

test('meta: malformed bodies and bodies of another provider are a PayloadError', () => {
  const ok = JSON.parse(raw('meta-text.json'));
  const msg = (patch: Record<string, unknown>) => oneMessage(patch);
  const bad: [string, unknown][] = [
    ['null', null], ['a string', 'hello'], ['an array', [ok]], ['a number', 42],
    ['no object', { entry: ok.entry }],
    ['a Messenger body', json('messenger.json')],
    ['no entry', { object: 'whatsapp_business_account' }],
    ['entry not an array', { object: 'whatsapp_business_account', entry: {} }],
    ['an entry that is not an object', { object: 'whatsapp_business_account', entry: ['x'] }],
    ['no changes', { object: 'whatsapp_business_account', entry: [{ id: '1' }] }],
    ['a messages change without value', { object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages' }] }] }],
    ['messages not an array', { object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { messages: {} } }] }] }],
    ['a message without id', msg({ id: undefined })],
    ['a message without type', msg({ type: undefined })],
    ['a message with a bad timestamp', msg({ timestamp: 'yesterday' })],
    ['a status without status', { object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { statuses: [{ id: 'wamid.X' }] } }] }] }],
    ['a status without id', { object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { statuses: [{ status: 'read' }] } }] }] }],
  ];
  for (const [label, body] of bad) assert.throws(() => parseMetaWhatsApp(body), PayloadError, label);
});

/** A Meta body with one message from 919876543210 (fields of `patch` override or, when undefined, remove). */
function oneMessage(patch: Record<string, unknown>): unknown {
  const message: Record<string, unknown> = { from: '919876543210', id: 'wamid.ONE', timestamp: '1767080000', type: 'text', text: { body: 'hi' } };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete message[k];
    else message[k] = v;
  }
  if (patch.type !== undefined && patch.type !== 'text' && !('text' in patch)) delete message.text;
  return { object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
    contacts: [{ profile: { name: 'Priya Sharma' }, wa_id: '919876543210' }], messages: [message] } }] }] };
}

// ---------------------------------------------------------------------------------------------
// Twilio

test('twilio: an inbound text is a message routed by To; SmsStatus=received is not a status', () => {
  const groups = parseTwilio(form('twilio-inbound.txt'), { receivedAt: RECEIVED });
  assert.deepEqual(groups, [{
    account_id: null,
    phone_number: '+14155238886',
    messages: [{
      provider_message_id: 'SM11111111111111111111111111111111',
      from_number: '+919876543210',
      from_user_id: null,
      reply_to: '+919876543210',
      profile_name: 'Asha',
      message_type: 'text',
      text: 'Hello ₹50',
      timestamp: RECEIVED,
      metadata: { wa_id: '919876543210', account_sid: 'AC00000000000000000000000000000000' },
    }],
    statuses: [],
  }]);
});

test('twilio: an inbound message without receivedAt is stamped now', () => {
  const before = Date.now();
  const m = parseTwilio(form('twilio-inbound.txt'))[0].messages[0];
  assert.ok(m.timestamp.getTime() >= before && m.timestamp.getTime() <= Date.now());
});

test('twilio: media gives the caption as text and the media url and content type', () => {
  const m = parseTwilio(form('twilio-media.txt'), { receivedAt: RECEIVED })[0].messages[0];
  const url = 'https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM22222222222222222222222222222222/Media/ME33333333333333333333333333333333';
  assert.deepEqual([m.provider_message_id, m.message_type, m.text], ['MM22222222222222222222222222222222', 'image', 'Is design ka cake, 1 kg']);
  assert.deepEqual([m.metadata.media_url, m.metadata.mime_type, m.metadata.media], [url, 'image/jpeg', [{ url, content_type: 'image/jpeg' }]]);
});

test('twilio: a location gives numeric latitude/longitude, address and label, and no text', () => {
  const m = parseTwilio(form('twilio-location.txt'), { receivedAt: RECEIVED })[0].messages[0];
  assert.deepEqual([m.message_type, m.text], ['location', null]);
  assert.deepEqual([m.metadata.latitude, m.metadata.longitude, m.metadata.address, m.metadata.label],
    [18.5196, 73.8553, 'MG Road, Pune', 'Sweet Home Bakery']);
});

test('twilio: a button tap gives the button text, its payload and the replied-to message', () => {
  const m = parseTwilio(form('twilio-button.txt'), { receivedAt: RECEIVED })[0].messages[0];
  assert.deepEqual([m.message_type, m.text, m.metadata.button_payload, m.metadata.context_message_id],
    ['button', 'Confirm order', 'confirm_order', 'SM66666666666666666666666666666666']);
});

test('twilio: without MessageType the kind comes from the fields (button, location, media content type)', () => {
  const base = { MessageSid: 'SMx', From: 'whatsapp:+919876543210', To: 'whatsapp:+14155238886', SmsStatus: 'received', Body: '' };
  const type = (extra: Record<string, string>) => parseTwilio({ ...base, ...extra }, { receivedAt: RECEIVED })[0].messages[0].message_type;
  assert.equal(type({ Body: 'hi' }), 'text');
  assert.equal(type({ ButtonPayload: 'yes' }), 'button');
  assert.equal(type({ Latitude: '18.5', Longitude: '73.8' }), 'location');
  assert.equal(type({ NumMedia: '1', MediaUrl0: 'https://x', MediaContentType0: 'audio/ogg' }), 'audio');
  assert.equal(type({ NumMedia: '1', MediaUrl0: 'https://x', MediaContentType0: 'application/pdf' }), 'document');
  const tap = parseTwilio({ ...base, ButtonPayload: 'yes' }, { receivedAt: RECEIVED })[0].messages[0];
  assert.equal(tap.text, 'yes', 'the payload when there is no button text');
});

test('twilio: a huge or nonsensical NumMedia reads at most the 10 media Twilio sends', () => {
  const base = { MessageSid: 'SMx', From: 'whatsapp:+919876543210', To: 'whatsapp:+14155238886', SmsStatus: 'received', Body: 'hi', MediaUrl0: 'https://x/0' };
  for (const n of ['8.067242789103431e+273', 'Infinity', '1e9', '-5', 'NaN']) {
    const m = parseTwilio({ ...base, NumMedia: n }, { receivedAt: RECEIVED })[0].messages[0];
    const media = (m.metadata.media ?? []) as unknown[];
    assert.ok(media.length <= 10, `NumMedia=${n}: ${media.length} media`);
  }
});

test('twilio: referral, forwarded and repeated fields are read', () => {
  const m = parseTwilio({
    MessageSid: 'SMx', From: 'whatsapp:+919876543210', To: 'whatsapp:+14155238886', Body: 'hi', Forwarded: 'true',
    ReferralNumMedia: '0', ReferralSourceUrl: 'https://fb.me/x', ReferralSourceType: 'ad', ReferralCtwaClid: 'ARA',
    ProfileName: ['Asha', 'Asha again'] as unknown as string,
  }, { receivedAt: RECEIVED })[0].messages[0];
  assert.deepEqual(m.metadata.referral, { source_url: 'https://fb.me/x', source_type: 'ad', ctwa_clid: 'ARA' });
  assert.equal(m.metadata.forwarded, true);
  assert.equal(m.profile_name, 'Asha');
});

test('twilio: a status callback is a status routed by From (our number), recipient To', () => {
  assert.deepEqual(parseTwilio(form('twilio-status.txt')), [{
    account_id: null,
    phone_number: '+14155238886',
    messages: [],
    statuses: [{ provider_message_id: 'SM77777777777777777777777777777777', status: 'delivered', recipient: '+919876543210', timestamp: null, error_code: null, error_message: null }],
  }]);
});

test('twilio: a failed status carries ErrorCode and ErrorMessage', () => {
  const s = parseTwilio(form('twilio-status-failed.txt'))[0].statuses[0];
  assert.deepEqual([s.status, s.error_code, s.error_message], ['undelivered', '63016', null]);
  const withMessage = parseTwilio({ ...form('twilio-status-failed.txt'), MessageStatus: 'failed', ErrorMessage: 'Outside messaging window' })[0].statuses[0];
  assert.deepEqual([withMessage.status, withMessage.error_code, withMessage.error_message], ['failed', '63016', 'Outside messaging window']);
  for (const word of ['queued', 'sent', 'read']) {
    assert.equal(parseTwilio({ ...form('twilio-status.txt'), MessageStatus: word, SmsStatus: word })[0].statuses[0].status, word);
  }
});

test('twilio: MessageStatus=received is an inbound message; a callback with only SmsStatus is a status', () => {
  const inbound = parseTwilio({ ...form('twilio-inbound.txt'), MessageStatus: 'received' }, { receivedAt: RECEIVED });
  assert.deepEqual([inbound[0].messages.length, inbound[0].statuses.length], [1, 0]);
  const { MessageStatus: _, ...legacy } = form('twilio-status.txt');
  const status = parseTwilio(legacy);
  assert.deepEqual([status[0].messages.length, status[0].statuses[0].status], [0, 'delivered']);
});

test('twilio: fields without MessageSid, or neither inbound nor status, are a PayloadError', () => {
  const { MessageSid: _a, SmsSid: _b, SmsMessageSid: _c, ...noSid } = form('twilio-inbound.txt');
  const bad: [string, unknown][] = [
    ['no sid', noSid], ['empty', {}], ['null', null], ['a string', 'MessageSid=SM1'], ['an array', [['MessageSid', 'SM1']]],
    ['a sid only', { MessageSid: 'SM1', AccountSid: 'AC1' }],
  ];
  for (const [label, fields] of bad) assert.throws(() => parseTwilio(fields as Record<string, string>), PayloadError, label);
});

// ---------------------------------------------------------------------------------------------
// Messenger & Instagram

test('messenger: entries are grouped per Page; echoes and watermark-only reads are skipped', () => {
  const groups = parseMessenger(json('messenger.json'));
  assert.deepEqual(groups.map((g) => [g.account_id, g.phone_number, g.messages.length, g.statuses.length]), [
    ['107215851468253', null, 5, 1],
    ['112233445566778', null, 1, 0],
  ]);
  const all = messagesOf(groups);
  assert.deepEqual(all.map((m) => m.message_type), ['text', 'button', 'image', 'document', 'reaction', 'button']);
  assert.ok(!all.some((m) => m.text === 'Yes! All our cakes can be made eggless.'), 'the echo is skipped');
  assert.ok(!all.some((m) => m.from_user_id === '107215851468253'), 'nothing from the Page itself');
});

test('messenger: a text message from a PSID, timestamp in milliseconds', () => {
  const m = parseMessenger(json('messenger.json'))[0].messages[0];
  assert.deepEqual(m, {
    provider_message_id: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P',
    from_number: null,
    from_user_id: '6789012345678901',
    reply_to: '6789012345678901',
    profile_name: null,
    message_type: 'text',
    text: 'Hi, do you make eggless cakes? ₹ price?',
    timestamp: new Date(1767081599876),
    metadata: {},
  });
});

test('messenger: quick reply and postback are buttons with their payload; attachments give type and url; replies keep the mid', () => {
  const [page, page2] = parseMessenger(json('messenger.json'));
  const [, quick, image, file, reaction] = page.messages;
  assert.deepEqual([quick.text, quick.metadata], ['Order now', { button_kind: 'quick_reply', button_payload: 'ORDER_NOW' }]);
  assert.equal(image.text, null);
  assert.match(image.metadata.media_url as string, /^https:\/\/scontent\.xx\.fbcdn\.net\//);
  assert.deepEqual([file.message_type, file.text, file.metadata.context_message_id],
    ['document', 'Yeh wala', 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P']);
  assert.deepEqual([reaction.text, reaction.metadata.reacted_message_id, reaction.metadata.reaction],
    ['❤', 'm_EK9Ld6Yu1xyARIlBjCCOn2qNIQ_UTtd9ngGO82TrOEoWhnjmtuBuQzO2qe0EG2jtp0puPT_9gkBMfy1M7vFR4T', 'love']);
  const postback = page2.messages[0];
  assert.deepEqual([postback.provider_message_id, postback.message_type, postback.text, postback.from_user_id, postback.metadata],
    ['m_FL0Me7Zv2yzBSJmCkDDPo3rOJR_VUue0ohHP93UsPFpXiokntvCvRzP3rf1FH3kuq1qvQU_0hlCNgz2N8wGS5U', 'button', 'Get Started', '7890123456789012',
      { button_kind: 'postback', button_payload: 'GET_STARTED' }]);
});

test('messenger: a delivery becomes a delivered status per mid', () => {
  assert.deepEqual(parseMessenger(json('messenger.json'))[0].statuses, [{
    provider_message_id: 'm_EK9Ld6Yu1xyARIlBjCCOn2qNIQ_UTtd9ngGO82TrOEoWhnjmtuBuQzO2qe0EG2jtp0puPT_9gkBMfy1M7vFR4T',
    status: 'delivered', recipient: '6789012345678901', timestamp: new Date(1767081899000), error_code: null, error_message: null,
  }]);
});

test('instagram: text, image and story reply from an IGSID; echo skipped; an unsend names its message; a read with a mid is a status', () => {
  const groups = parseMessenger(json('instagram.json'));
  assert.equal(groups.length, 1);
  const [g] = groups;
  assert.equal(g.account_id, '17841405822304914');
  const [unsend] = g.messages.filter((m) => m.action);
  const shown = g.messages.filter((m) => !m.action);
  assert.deepEqual(shown.map((m) => [m.message_type, m.text]), [
    ['text', 'Price for 1 kg red velvet? 🎂'], ['image', null], ['text', 'I want this one'], ['reaction', '❤️'],
  ]);
  // The unsend removes the first message: it names it, and is no message of its own.
  assert.deepEqual([unsend.action, unsend.original_message_id, unsend.text], ['delete', g.messages[0].provider_message_id, null]);
  for (const m of g.messages) assert.deepEqual([m.from_user_id, m.reply_to, m.from_number], ['1234567890123456', '1234567890123456', null]);
  assert.equal((g.messages[2].metadata.story as Record<string, unknown>).id, '17998765432109876');
  assert.match(g.messages[1].metadata.media_url as string, /^https:\/\/lookaside\.fbsbx\.com\/ig_messaging_cdn\//);
  assert.deepEqual(g.statuses.map((s) => [s.status, s.recipient]), [['read', '1234567890123456']]);
  assert.ok(!g.messages.some((m) => m.text === 'It is ₹1,200 for 1 kg.'), 'the echo is skipped');
});

test('messenger: an entry of only echoes gives its group with nothing in it; entries without messaging give none', () => {
  const body = json('messenger.json') as { entry: Record<string, unknown>[] };
  const echoOnly = { object: 'page', entry: [body.entry[4]] };
  assert.deepEqual(parseMessenger(echoOnly), [{ account_id: '107215851468253', phone_number: null, messages: [], statuses: [] }]);
  assert.deepEqual(parseMessenger({ object: 'instagram', entry: [{ id: '17841405822304914', time: 1, changes: [{ field: 'comments', value: {} }] }] }), []);
});

test('messenger: malformed bodies and bodies of another provider are a PayloadError', () => {
  const page = (event: unknown) => ({ object: 'page', entry: [{ id: '1', time: 1767081600000, messaging: [event] }] });
  const bad: [string, unknown][] = [
    ['null', null], ['an array', []], ['a WhatsApp body', json('meta-text.json')], ['a Telegram update', json('telegram.json')],
    ['no entry', { object: 'page' }], ['messaging not an array', { object: 'page', entry: [{ id: '1', messaging: {} }] }],
    ['an event that is not an object', page('x')],
    ['a message without mid', page({ sender: { id: '1' }, recipient: { id: '2' }, timestamp: 1, message: { text: 'hi' } })],
    ['a message without sender', page({ recipient: { id: '2' }, timestamp: 1, message: { mid: 'm_1', text: 'hi' } })],
    ['a message that is not an object', page({ sender: { id: '1' }, recipient: { id: '2' }, timestamp: 1, message: 'hi' })],
  ];
  for (const [label, body] of bad) assert.throws(() => parseMessenger(body), PayloadError, label);
});

// ---------------------------------------------------------------------------------------------
// Telegram

test('telegram: a text message is `${chat.id}:${message_id}` from from.id, answered on chat.id', () => {
  assert.deepEqual(parseTelegram(json('telegram.json')), [{
    account_id: null,
    phone_number: null,
    messages: [{
      provider_message_id: '5123456789:1365',
      from_number: null,
      from_user_id: '5123456789',
      reply_to: '5123456789',
      profile_name: 'Asha Patil',
      message_type: 'text',
      text: '/start',
      timestamp: at(1767083000),
      metadata: {
        update_id: 730144001, update_kind: 'message', chat_type: 'private', username: 'asha_p', language_code: 'en',
        entities: [{ offset: 0, length: 6, type: 'bot_command' }],
      },
    }],
    statuses: [],
  }]);
});

test('telegram: escaped Hindi text is decoded', () => {
  assert.equal(parseTelegram(json('telegram-text-hindi.json'))[0].messages[0].text, 'मुझे 2 केक चाहिए, ₹ कितना?');
});

test('telegram: a photo is an image with its caption and the largest size', () => {
  const m = parseTelegram(json('telegram-photo.json'))[0].messages[0];
  assert.deepEqual([m.message_type, m.text, m.metadata.media_id, m.metadata.width], ['image', 'Is design ka cake chahiye', 'AgACAgUAAxkBAAIBR2d1c2Vy_large', 1280]);
});

test('telegram: document, voice, location and sticker', () => {
  const doc = parseTelegram(json('telegram-document.json'))[0].messages[0];
  assert.deepEqual([doc.message_type, doc.text, doc.metadata.filename, doc.metadata.mime_type], ['document', 'Order list', 'order-list.pdf', 'application/pdf']);
  const voice = parseTelegram(json('telegram-voice.json'))[0].messages[0];
  assert.deepEqual([voice.message_type, voice.text, voice.metadata.voice, voice.metadata.media_id], ['audio', null, true, 'AwACAgUAAxkBAAIBSWd1c2VyX3ZvaWNl']);
  const loc = parseTelegram(json('telegram-location.json'))[0].messages[0];
  assert.deepEqual([loc.message_type, loc.metadata.latitude, loc.metadata.longitude], ['location', 18.519601, 73.855301]);
  const sticker = parseTelegram(json('telegram-group.json'))[0].messages[0];
  assert.deepEqual([sticker.message_type, sticker.metadata.emoji], ['sticker', '🎂']);
});

test('telegram: the user\'s own shared contact gives from_number; someone else\'s does not', () => {
  const own = parseTelegram(json('telegram-contact.json'))[0].messages[0];
  assert.deepEqual([own.message_type, own.from_number, own.from_user_id, own.metadata.contact_phone_number, own.metadata.context_message_id],
    ['contacts', '919876543210', '5123456789', '919876543210', '5123456789:1364']);
  const body = json('telegram-contact.json') as { message: { contact: Record<string, unknown> } };
  body.message.contact = { phone_number: '+919820012345', first_name: 'Meena' };
  const other = parseTelegram(body)[0].messages[0];
  assert.deepEqual([other.from_number, other.metadata.contact_phone_number], [null, '+919820012345']);
});

test('telegram: a group message answers on the (negative) group chat id, from the member', () => {
  const m = parseTelegram(json('telegram-group.json'))[0].messages[0];
  assert.deepEqual([m.provider_message_id, m.reply_to, m.from_user_id, m.profile_name, m.metadata.chat_title],
    ['-1001987654321:88', '-1001987654321', '6234567890', 'Vikram', 'Pune Cake Orders']);
});

test('telegram: an edit has its own event id and changes the original message', () => {
  const m = parseTelegram(json('telegram-edited.json'))[0].messages[0];
  assert.deepEqual([m.provider_message_id, m.text, m.action, m.original_message_id, m.metadata.edited],
    ['5123456789:1366:edit:1767083420', 'मुझे 3 केक चाहिए, ₹ कितना?', 'edit', '5123456789:1366', true]);
});

test('telegram: a channel post is the channel owner broadcasting, not a customer: no message', () => {
  assert.deepEqual(parseTelegram(json('telegram-channel-post.json')), [{ account_id: null, phone_number: null, messages: [], statuses: [] }]);
});

// Real payloads from public sources (test/fixtures/payloads/real/SOURCES.md names each one).
const real = (name: string) => JSON.parse(readFileSync(new URL(`real/${name}`, FIXTURES), 'utf8'));

test('real payloads: a WhatsApp edit (pywa fixture) carries the new text and names the original', () => {
  const [g] = parseMetaWhatsApp(real('whatsapp-edit.json'));
  assert.equal(g.account_id, '1122334455667');
  const [m] = g.messages;
  assert.deepEqual([m.action, m.original_message_id, m.provider_message_id, m.message_type, m.text, m.from_number, m.profile_name],
    ['edit', 'wamid.zzzzzz', 'wamid.yyyyyy', 'text', 'Text was edited', '972987654321', 'Test Name']);
});

test('real payloads: a WhatsApp revoke (pywa fixture) deletes the original and has no text', () => {
  const [m] = parseMetaWhatsApp(real('whatsapp-revoke.json'))[0].messages;
  assert.deepEqual([m.action, m.original_message_id, m.provider_message_id, m.text], ['delete', 'wamid.zzzzzz', 'wamid.yyyyyy', null]);
});

test('real payloads: Telegram\'s documented edited_message changes message 1365 of the private chat', () => {
  const [m] = parseTelegram(real('telegram-edited-message.json'))[0].messages;
  assert.deepEqual([m.action, m.original_message_id, m.provider_message_id, m.text, m.reply_to, m.profile_name],
    ['edit', '1111111:1365', '1111111:1365:edit:1441646600', 'Edited text', '1111111', 'Test Firstname Test Lastname']);
});

test('real payloads: a Telegram channel_post (tgbot fixture) gives no message', () => {
  assert.equal(parseTelegram(real('telegram-channel-post.json'))[0].messages.length, 0);
});

test('telegram: an inline button tap is a button with the label as text and the data as payload', () => {
  const m = parseTelegram(json('telegram-callback.json'), { receivedAt: RECEIVED })[0].messages[0];
  assert.deepEqual(m, {
    provider_message_id: 'callback:4382bfdwdsb323b2d9',
    from_number: null,
    from_user_id: '5123456789',
    reply_to: '5123456789',
    profile_name: 'Asha Patil',
    message_type: 'button',
    text: 'Confirm',
    timestamp: RECEIVED,
    metadata: {
      update_id: 730144009, update_kind: 'callback_query', callback_query_id: '4382bfdwdsb323b2d9',
      button_payload: 'confirm:ord_8842', context_message_id: '5123456789:1372', username: 'asha_p',
    },
  });
});

test('telegram: an update without a message gives one empty group; an unknown message kind keeps its field name', () => {
  assert.deepEqual(parseTelegram(json('telegram-member.json')), [{ account_id: null, phone_number: null, messages: [], statuses: [] }]);
  const dice = parseTelegram({ update_id: 1, message: { message_id: 2, chat: { id: 3, type: 'private' }, from: { id: 3, first_name: 'A' }, date: 1767083000, dice: { emoji: '🎲', value: 4 } } });
  assert.deepEqual([dice[0].messages[0].message_type, dice[0].messages[0].metadata.dice], ['dice', { emoji: '🎲', value: 4 }]);
});

test('telegram: malformed updates and bodies of another provider are a PayloadError', () => {
  const bad: [string, unknown][] = [
    ['null', null], ['an array', [json('telegram.json')]], ['a string', 'update'],
    ['no update_id', { message: { message_id: 1, chat: { id: 1 }, date: 1 } }],
    ['a string update_id', { update_id: '1', message: { message_id: 1, chat: { id: 1 }, date: 1 } }],
    ['a WhatsApp body', json('meta-text.json')],
    ['a message without chat', { update_id: 1, message: { message_id: 1, date: 1, text: 'x' } }],
    ['a message without message_id', { update_id: 1, message: { chat: { id: 1 }, date: 1, text: 'x' } }],
    ['a message without date', { update_id: 1, message: { message_id: 1, chat: { id: 1 }, text: 'x' } }],
    ['a message that is not an object', { update_id: 1, message: 'x' }],
    ['a callback without from', { update_id: 1, callback_query: { id: 'q', data: 'x' } }],
  ];
  for (const [label, body] of bad) assert.throws(() => parseTelegram(body), PayloadError, label);
});

test('PayloadError is an Error named PayloadError with a message naming the bad field', () => {
  try {
    parseMetaWhatsApp(oneMessage({ id: undefined }));
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof PayloadError && err instanceof Error);
    assert.equal(err.name, 'PayloadError');
    assert.match(err.message, /entry\[0\]\.changes\[0\]\.value\.messages\[0\]\.id/);
  }
});
