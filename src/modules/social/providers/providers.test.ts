// Each outbound provider against the fake provider server: the request it makes (URL, auth, body),
// the id it returns, and how every kind of refusal is classified. Nothing here reaches a real API.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metaError, startFakeProvider, telegramError, twilioError, type FakeProvider } from '../../../../test/helpers/fake-provider.js';
import { createProvider, defaultProviderName, providerNameFor, type ProviderChannel, type ProviderName, type ProviderUrls, type SendResult } from './provider.js';
import { get as httpGet, post as httpPost } from './http.js';

let fake: FakeProvider;
let urls: ProviderUrls;
before(async () => {
  fake = await startFakeProvider();
  urls = { metaGraphApiUrl: `${fake.url}/meta`, twilioApiUrl: `${fake.url}/twilio`, telegramApiUrl: `${fake.url}/telegram` };
});
after(async () => { await fake.close(); });
beforeEach(() => fake.clear());

const META_TOKEN = 'EAAG-meta-secret-token';
const TWILIO_SID = 'AC00000000000000000000000000000001';
const TWILIO_TOKEN = 'twilio-auth-token-secret';
const TG_TOKEN = '123456:AAH-telegram-secret';

const whatsapp: ProviderChannel = { channel_type: 'whatsapp', phone_number: '+919800000001', account_id: '1098765', api_key: META_TOKEN, api_secret: 'app-secret-x', settings: {} };
const viaTwilio: ProviderChannel = { channel_type: 'whatsapp', phone_number: '+14155238886', account_id: null, api_key: TWILIO_SID, api_secret: TWILIO_TOKEN, settings: { provider: 'twilio' } };
const page: ProviderChannel = { channel_type: 'facebook', phone_number: null, account_id: '5550001', api_key: 'page-token-secret', api_secret: null, settings: {} };
const igAccount: ProviderChannel = { channel_type: 'instagram', phone_number: null, account_id: '1784000', api_key: 'ig-token-secret', api_secret: null, settings: {} };
const bot: ProviderChannel = { channel_type: 'telegram', phone_number: null, account_id: null, api_key: TG_TOKEN, api_secret: 'webhook-secret', settings: {} };

const template = { name: 'order_ready', language: 'en_US', params: ['Asha', 'ORD-000042', '₹1,250.00'] };

function failure(r: SendResult) {
  assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r as Extract<SendResult, { ok: false }>;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('meta (WhatsApp Cloud API)', () => {
  test('a text goes to /<phone_number_id>/messages with the bearer token, E.164 with +, no link preview', async () => {
    const r = await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'Your order is ready' });
    assert.equal(r.ok, true);
    assert.match((r as any).provider_message_id, /^wamid\.\d+$/);
    assert.equal(fake.requests.length, 1);
    const req = fake.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/meta/1098765/messages');
    assert.equal(req.headers.authorization, `Bearer ${META_TOKEN}`);
    assert.match(String(req.headers['content-type']), /^application\/json/);
    assert.deepEqual(req.body, {
      messaging_product: 'whatsapp', recipient_type: 'individual', to: '+919876543210', type: 'text',
      text: { preview_url: false, body: 'Your order is ready' },
    });
  });

  test('a recipient without + is sent with one, so WhatsApp does not prefix the business country code', async () => {
    await createProvider('meta', urls).send(whatsapp, { to: '919876543210', text: 'hi' });
    assert.equal(fake.requests[0].body.to, '+919876543210');
  });

  test('a template is sent as type template with the language code and body parameters in order', async () => {
    const r = await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'rendered text', template });
    assert.equal(r.ok, true);
    assert.deepEqual(fake.requests[0].body, {
      messaging_product: 'whatsapp', recipient_type: 'individual', to: '+919876543210', type: 'template',
      template: {
        name: 'order_ready', language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [
          { type: 'text', text: 'Asha' }, { type: 'text', text: 'ORD-000042' }, { type: 'text', text: '₹1,250.00' },
        ] }],
      },
    });
  });

  test('a template without parameters has no components', async () => {
    await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'x', template: { name: 'hello_world', language: 'en', params: [] } });
    assert.deepEqual(fake.requests[0].body.template, { name: 'hello_world', language: { code: 'en' } });
  });

  const cases: [number, string, 'transient' | 'permanent' | 'auth' | 'window', number][] = [
    [130429, 'Rate limit hit', 'transient', 400],
    [131056, '(Business Account, Consumer Account) pair rate limit hit', 'transient', 400],
    [80007, 'Rate limit issues', 'transient', 400],
    [4, 'Application request limit reached', 'transient', 400],
    [131000, 'Something went wrong', 'transient', 500],
    [131057, 'Account in maintenance mode', 'transient', 400],
    [190, 'Error validating access token: Session has expired', 'auth', 401],
    [0, 'AuthException', 'auth', 401],
    [131047, 'Re-engagement message', 'window', 400],
    [131026, 'Message undeliverable', 'permanent', 400],
    [132000, 'Number of parameters does not match the expected number of params', 'permanent', 400],
    [132001, 'Template name does not exist in the translation', 'permanent', 404],
    [100, 'Invalid parameter', 'permanent', 400],
    [131050, 'Unable to deliver the message', 'permanent', 400],
  ];
  for (const [code, message, kind, status] of cases) {
    test(`Meta error ${code} is ${kind}`, async () => {
      fake.queue({ status, body: metaError(code, message) });
      const r = failure(await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'hi' }));
      assert.deepEqual(r, { ok: false, kind, code: String(code), message });
    });
  }

  test('the message carries error_data.details when Meta gives them', async () => {
    fake.queue({ status: 400, body: metaError(130429, '(#130429) Rate limit hit', 'Cloud API message throughput has been reached.') });
    const r = failure(await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'hi' }));
    assert.equal(r.message, '(#130429) Rate limit hit: Cloud API message throughput has been reached.');
  });

  test('the Meta code decides, not the HTTP status: 131047 answered with HTTP 400 is window, not permanent', async () => {
    fake.queue({ status: 400, body: metaError(131047, 'Re-engagement message') });
    assert.equal(failure(await createProvider('meta', urls).send(whatsapp, { to: '+1', text: 'hi' })).kind, 'window');
  });

  test('HTTP 500 without a Meta error (a proxy page) is transient', async () => {
    fake.queue({ status: 500, body: '<html>Internal Server Error</html>' });
    const r = failure(await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'hi' }));
    assert.equal(r.kind, 'transient');
    assert.equal(r.code, 'http_500');
    assert.match(r.message, /^HTTP 500/);
  });

  test('HTTP 429 is transient and Retry-After becomes retry_after_ms', async () => {
    fake.queue({ status: 429, body: '', headers: { 'retry-after': '7' } });
    const r = failure(await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'hi' }));
    assert.equal(r.kind, 'transient');
    assert.equal(r.code, 'http_429');
    assert.equal(r.retry_after_ms, 7000);
  });

  test('a refused connection is transient', async () => {
    const port = await closedPort();
    const p = createProvider('meta', { ...urls, metaGraphApiUrl: `http://127.0.0.1:${port}/meta` });
    const r = failure(await p.send(whatsapp, { to: '+919876543210', text: 'hi' }));
    assert.equal(r.kind, 'transient');
    assert.equal(r.code, 'ECONNREFUSED');
  });

  test('a dropped connection is transient', async () => {
    fake.queue({ status: 200, destroy: true });
    const r = failure(await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'hi' }));
    assert.equal(r.kind, 'transient');
  });

  test('no answer within timeoutMs is transient, and the call returns at the timeout', async () => {
    fake.queue({ status: 200, body: { messages: [{ id: 'wamid.late' }] }, delayMs: 2000 });
    const started = Date.now();
    const r = failure(await createProvider('meta', urls, { timeoutMs: 100 }).send(whatsapp, { to: '+919876543210', text: 'hi' }));
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    assert.deepEqual({ kind: r.kind, code: r.code }, { kind: 'transient', code: 'timeout' });
  });

  test('a redirect is not followed, and an answer over 1 MB is not read whole', async () => {
    fake.queue({ status: 302, body: '', headers: { location: 'http://127.0.0.1:9/elsewhere' } });
    const moved = failure(await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'hi' }));
    assert.deepEqual({ kind: moved.kind, code: moved.code }, { kind: 'transient', code: 'redirect' });
    assert.equal(fake.requests.length, 1);
    fake.queue({ status: 200, body: { messages: [{ id: 'wamid.big' }], padding: 'x'.repeat(1.5 * 1024 * 1024) } });
    const big = failure(await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'hi' }));
    // Accepted, but without a readable id: the message may have gone, so it is not retried.
    assert.deepEqual({ kind: big.kind, code: big.code }, { kind: 'permanent', code: 'bad_response' });
  });

  test('a 200 without a message id is not retried (the message may have gone)', async () => {
    fake.queue({ status: 200, body: { messaging_product: 'whatsapp' } });
    const r = failure(await createProvider('meta', urls).send(whatsapp, { to: '+919876543210', text: 'hi' }));
    assert.deepEqual({ kind: r.kind, code: r.code }, { kind: 'permanent', code: 'bad_response' });
  });

  test('a channel without a token fails as auth without calling Meta', async () => {
    const r = failure(await createProvider('meta', urls).send({ ...whatsapp, api_key: null }, { to: '+919876543210', text: 'hi' }));
    assert.equal(r.kind, 'auth');
    assert.equal(fake.requests.length, 0);
  });
});

describe('twilio (WhatsApp via Twilio)', () => {
  test('a text is a form POST to the account Messages.json with HTTP Basic SID:token', async () => {
    const r = await createProvider('twilio', urls).send(viaTwilio, { to: '+919876543210', text: 'Your order is ready' });
    assert.equal(r.ok, true);
    assert.match((r as any).provider_message_id, /^SM\d+$/);
    const req = fake.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.path, `/twilio/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
    assert.equal(req.headers.authorization, `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`);
    assert.match(String(req.headers['content-type']), /^application\/x-www-form-urlencoded/);
    assert.deepEqual(req.body, { From: 'whatsapp:+14155238886', To: 'whatsapp:+919876543210', Body: 'Your order is ready' });
  });

  test('a template named by a Content SID is sent as ContentSid + ContentVariables, without Body', async () => {
    const sid = 'HX' + 'a'.repeat(32);
    await createProvider('twilio', urls).send(viaTwilio, { to: '+919876543210', text: 'rendered', template: { ...template, name: sid } });
    assert.deepEqual(fake.requests[0].body, {
      From: 'whatsapp:+14155238886', To: 'whatsapp:+919876543210', ContentSid: sid,
      ContentVariables: JSON.stringify({ 1: 'Asha', 2: 'ORD-000042', 3: '₹1,250.00' }),
    });
  });

  test('any other template is sent as its rendered text', async () => {
    await createProvider('twilio', urls).send(viaTwilio, { to: '+919876543210', text: 'rendered', template });
    assert.equal(fake.requests[0].body.Body, 'rendered');
    assert.equal(fake.requests[0].body.ContentSid, undefined);
  });

  const cases: [number, string, number, 'transient' | 'permanent' | 'auth' | 'window'][] = [
    [20003, 'Authenticate', 401, 'auth'],
    [63016, 'Outside messaging window. For WhatsApp, use a Message Template instead', 400, 'window'],
    [20429, 'Too Many Requests', 429, 'transient'],
    [20500, 'Internal Server Error', 500, 'transient'],
    [21211, "The 'To' number is not a valid phone number.", 400, 'permanent'],
    [21610, 'Attempt to send to unsubscribed recipient', 400, 'permanent'],
  ];
  for (const [code, message, status, kind] of cases) {
    test(`Twilio error ${code} is ${kind}`, async () => {
      fake.queue({ status, body: twilioError(code, message, status) });
      const r = failure(await createProvider('twilio', urls).send(viaTwilio, { to: '+919876543210', text: 'hi' }));
      assert.deepEqual(r, { ok: false, kind, code: String(code), message });
    });
  }

  test('HTTP 503 without a Twilio body is transient', async () => {
    fake.queue({ status: 503, body: 'Service Unavailable' });
    const r = failure(await createProvider('twilio', urls).send(viaTwilio, { to: '+919876543210', text: 'hi' }));
    assert.deepEqual({ kind: r.kind, code: r.code }, { kind: 'transient', code: 'http_503' });
  });

  test('a refused connection is transient and its message holds no credentials', async () => {
    const port = await closedPort();
    const r = failure(await createProvider('twilio', { ...urls, twilioApiUrl: `http://127.0.0.1:${port}` }).send(viaTwilio, { to: '+919876543210', text: 'hi' }));
    assert.equal(r.kind, 'transient');
    assert.ok(!JSON.stringify(r).includes(TWILIO_TOKEN));
  });
});

describe('messenger and instagram (Graph Send API)', () => {
  for (const [name, channel] of [['messenger', page], ['instagram', igAccount]] as const) {
    test(`${name}: recipient.id, messaging_type UPDATE and the text go to /<account_id>/messages with the bearer token`, async () => {
      const r = await createProvider(name, urls).send(channel, { to: 'PSID-77', text: 'Your order is ready', template });
      assert.equal(r.ok, true);
      assert.match((r as any).provider_message_id, /^m_\d+$/);
      const req = fake.requests[0];
      assert.equal(req.path, `/meta/${channel.account_id}/messages`);
      assert.equal(req.headers.authorization, `Bearer ${channel.api_key}`);
      assert.ok(!req.path.includes('access_token'));
      assert.deepEqual(req.body, { recipient: { id: 'PSID-77' }, messaging_type: 'UPDATE', message: { text: 'Your order is ready' } });
    });
  }

  test('without an account id the send goes to /me/messages; a message tag is sent as MESSAGE_TAG', async () => {
    await createProvider('messenger', urls).send({ ...page, account_id: null, settings: { message_tag: 'HUMAN_AGENT' } }, { to: 'PSID-1', text: 'hi' });
    assert.equal(fake.requests[0].path, '/meta/me/messages');
    assert.deepEqual(fake.requests[0].body, { recipient: { id: 'PSID-1' }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'hi' } });
  });

  test('Graph errors: 190 auth, 10/2018278 outside the window, 613 rate limit transient, 100 permanent', async () => {
    const p = createProvider('messenger', urls);
    fake.queue({ status: 401, body: metaError(190, 'Error validating access token') });
    assert.equal(failure(await p.send(page, { to: 'P', text: 'x' })).kind, 'auth');
    fake.queue({ status: 400, body: { error: { message: 'This message is sent outside of allowed window.', code: 10, error_subcode: 2018278 } } });
    assert.deepEqual(failure(await p.send(page, { to: 'P', text: 'x' })), { ok: false, kind: 'window', code: '10', message: 'This message is sent outside of allowed window.' });
    fake.queue({ status: 400, body: metaError(613, 'Calls to this api have exceeded the rate limit.') });
    assert.equal(failure(await p.send(page, { to: 'P', text: 'x' })).kind, 'transient');
    fake.queue({ status: 400, body: metaError(100, 'No matching user found') });
    assert.equal(failure(await p.send(page, { to: 'P', text: 'x' })).kind, 'permanent');
  });
});

describe('telegram (Bot API)', () => {
  test('sendMessage with chat_id and text; the id is the message_id as a string', async () => {
    const r = await createProvider('telegram', urls).send(bot, { to: '1111111', text: 'Your order is ready', template });
    assert.equal(r.ok, true);
    assert.match((r as any).provider_message_id, /^\d+$/);
    const req = fake.requests[0];
    assert.equal(req.path, `/telegram/bot${TG_TOKEN}/sendMessage`);
    assert.deepEqual(req.body, { chat_id: '1111111', text: 'Your order is ready' });
  });

  test('429 is transient with retry_after_ms from parameters.retry_after', async () => {
    fake.queue({ status: 429, body: telegramError(429, 'Too Many Requests: retry after 35', 35) });
    const r = failure(await createProvider('telegram', urls).send(bot, { to: '1', text: 'x' }));
    assert.deepEqual(r, { ok: false, kind: 'transient', code: '429', message: 'Too Many Requests: retry after 35', retry_after_ms: 35000 });
  });

  const cases: [number, string, 'transient' | 'permanent' | 'auth'][] = [
    [401, 'Unauthorized', 'auth'],
    [404, 'Not Found', 'auth'],
    [400, 'Bad Request: chat not found', 'permanent'],
    [403, 'Forbidden: bot was blocked by the user', 'permanent'],
    [502, 'Bad Gateway', 'transient'],
  ];
  for (const [code, description, kind] of cases) {
    test(`Telegram ${code} (${description}) is ${kind}`, async () => {
      fake.queue({ status: code, body: telegramError(code, description) });
      const r = failure(await createProvider('telegram', urls).send(bot, { to: '1', text: 'x' }));
      assert.deepEqual(r, { ok: false, kind, code: String(code), message: description });
    });
  }

  test('a timeout is transient and nothing returned holds the bot token (it is in the URL)', async () => {
    fake.queue({ status: 200, body: { ok: true, result: { message_id: 1 } }, delayMs: 2000 });
    const r = failure(await createProvider('telegram', urls, { timeoutMs: 100 }).send(bot, { to: '1', text: 'x' }));
    assert.equal(r.kind, 'transient');
    const port = await closedPort();
    const refused = failure(await createProvider('telegram', { ...urls, telegramApiUrl: `http://127.0.0.1:${port}` }).send(bot, { to: '1', text: 'x' }));
    assert.equal(refused.kind, 'transient');
    for (const x of [r, refused]) assert.ok(!JSON.stringify(x).includes(TG_TOKEN) && !JSON.stringify(x).includes('AAH-telegram'));
  });
});

describe('sandbox', () => {
  test('sends nothing, logs the rendered message without the channel secrets, answers with a sandbox id', async () => {
    const lines: { obj: object; msg: string }[] = [];
    const p = createProvider('sandbox', urls, { log: (obj, msg) => lines.push({ obj, msg }) });
    const r = await p.send({ ...whatsapp, settings: { provider: 'sandbox' } }, { to: '+919876543210', text: 'Hello Asha', template });
    assert.equal(r.ok, true);
    assert.match((r as any).provider_message_id, /^sandbox-[0-9a-f-]{36}$/);
    assert.equal(fake.requests.length, 0);
    assert.deepEqual(lines, [{ obj: { to: '+919876543210', text: 'Hello Asha', template }, msg: 'sandbox message' }]);
    const logged = JSON.stringify(lines);
    for (const secret of [META_TOKEN, 'app-secret-x']) assert.ok(!logged.includes(secret));
  });
});

describe('choosing a provider', () => {
  test('each channel type has a default provider; settings.provider overrides it when it names one', () => {
    assert.equal(defaultProviderName('whatsapp'), 'meta');
    assert.equal(defaultProviderName('facebook'), 'messenger');
    assert.equal(defaultProviderName('instagram'), 'instagram');
    assert.equal(defaultProviderName('telegram'), 'telegram');
    assert.equal(providerNameFor(viaTwilio), 'twilio');
    assert.equal(providerNameFor({ channel_type: 'whatsapp', settings: { provider: 'nope' } }), 'meta');
    assert.equal(providerNameFor({ channel_type: 'telegram', settings: {} }), 'telegram');
  });

  test('every provider answers a refused connection with a transient SendResult rather than throwing', async () => {
    const port = await closedPort();
    const dead = `http://127.0.0.1:${port}`;
    const deadUrls = { metaGraphApiUrl: dead, twilioApiUrl: dead, telegramApiUrl: dead };
    const pairs: [ProviderName, ProviderChannel][] = [['meta', whatsapp], ['twilio', viaTwilio], ['messenger', page], ['instagram', igAccount], ['telegram', bot]];
    for (const [name, channel] of pairs) {
      const p = createProvider(name, deadUrls);
      assert.equal(p.name, name);
      assert.equal(failure(await p.send(channel, { to: '+919876543210', text: 'x' })).kind, 'transient', name);
    }
  });
});

describe('credentials check', () => {
  test('each provider asks one read-only question with its credentials; the sandbox asks nobody', async () => {
    const cases: [ProviderName, ProviderChannel, string][] = [
      ['meta', whatsapp, '/meta/1098765?fields=display_phone_number,verified_name,quality_rating'],
      ['instagram', igAccount, '/meta/1784000?fields=id,username,name'],
      ['messenger', { ...page, account_id: null }, '/meta/me?fields=id,name'],
      ['twilio', viaTwilio, `/twilio/2010-04-01/Accounts/${TWILIO_SID}.json`],
      ['telegram', bot, `/telegram/bot${TG_TOKEN}/getMe`],
    ];
    for (const [name, channel, path] of cases) {
      fake.clear();
      const r = await createProvider(name, urls).check(channel);
      assert.equal(r.ok, true, `${name}: ${JSON.stringify(r)}`);
      assert.deepEqual(fake.requests.map((q) => [q.method, q.path]), [['GET', path]], name);
    }
    fake.clear();
    assert.equal((await createProvider('sandbox', urls).check(whatsapp)).ok, true);
    assert.equal(fake.requests.length, 0);
  });

  test('a Meta answer without a phone number is a permanent failure; a timeout is transient and never shows the token', async () => {
    fake.queue({ status: 200, body: { id: '1098765' } });
    const r = await createProvider('meta', urls).check(whatsapp);
    assert.deepEqual(r.ok ? r : [r.kind, r.code], ['permanent', 'bad_response']);
    fake.queue({ status: 200, body: { ok: true }, delayMs: 500 });
    const slow = await createProvider('telegram', urls, { timeoutMs: 100 }).check(bot);
    assert.deepEqual(slow.ok ? slow : [slow.kind, slow.code], ['transient', 'timeout']);
    assert.ok(!JSON.stringify(slow).includes(TG_TOKEN));
  });
});

test('a check on a kept-alive connection the provider closed goes again on a new one (a send does not)', async () => {
  // The server drops every connection at its second request, without an answer: what a provider
  // that closed an idle kept-alive connection looks like to the next request sent on it.
  let seen = 0;
  const server = createServer((req, res) => {
    seen++;
    const n = ((req.socket as any).requests = ((req.socket as any).requests ?? 0) + 1);
    if (n === 2) { req.socket.destroy(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bot/getMe`;
  try {
    const first = await httpGet({ url, headers: {}, timeoutMs: 5000 });
    const second = await httpGet({ url, headers: {}, timeoutMs: 5000 });
    assert.deepEqual([first.type, second.type], ['response', 'response']);
    assert.equal(second.type === 'response' && second.status, 200);
    assert.equal(seen, 3, 'the second request was sent twice: on the closed connection, then on a new one');
    // A send is not sent again: the provider may have taken it. It fails, and the queue retries it.
    assert.equal((await httpGet({ url, headers: {}, timeoutMs: 5000 })).type, 'response');
    const send = await httpPost({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5000 });
    assert.equal(send.type, 'network');
    assert.equal(seen, 5, 'the send went once');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
