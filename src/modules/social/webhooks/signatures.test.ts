import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  signMeta,
  signTwilio,
  verifyMetaSignature,
  verifyTelegramSecret,
  verifyTwilioSignature,
} from './signatures.js';

// Every vector in the shared file is checked: each top-level key holds one vector or a list of them,
// and a vector is recognised by its fields, so a vector added to the file is tested without a code
// change (and one of a kind this file does not know fails loudly).
const VECTORS_DIR = new URL('../../../../test/fixtures/vectors/', import.meta.url);
const vectorFile = JSON.parse(readFileSync(new URL('signatures.json', VECTORS_DIR), 'utf8')) as Record<string, unknown>;

type Vector = Record<string, unknown> & { name?: string; expected: string; must_reject?: string[] };

function bodyOf(v: Vector): Buffer {
  if (typeof v.body_file === 'string') return readFileSync(new URL(v.body_file, VECTORS_DIR));
  assert.equal(typeof v.body, 'string', `vector ${v.name}: body or body_file`);
  return Buffer.from(v.body as string, 'utf8');
}

function withoutDefaultPort(url: string): string {
  return url.replace(/^(https:\/\/[^/?#]+):443(?=[/?#]|$)/i, '$1').replace(/^(http:\/\/[^/?#]+):80(?=[/?#]|$)/i, '$1');
}

let vectorCount = 0;
for (const [group, value] of Object.entries(vectorFile)) {
  const list = (Array.isArray(value) ? value : [value]) as Vector[];
  list.forEach((v, i) => {
    vectorCount++;
    const label = `vector ${group}/${v.name ?? i}`;

    if (typeof v.secret === 'string' && ('body' in v || 'body_file' in v)) {
      test(`${label}: Meta X-Hub-Signature-256 verifies the raw bytes`, () => {
        const body = bodyOf(v);
        assert.equal(signMeta(body, v.secret as string), v.expected);
        assert.equal(verifyMetaSignature(body, v.expected, v.secret as string), true);
        assert.equal(verifyMetaSignature(body, v.expected.toUpperCase().replace('SHA256=', 'sha256='), v.secret as string), true);
        for (const bad of v.must_reject ?? []) {
          assert.equal(verifyMetaSignature(body, bad, v.secret as string), false, `must reject ${bad}`);
        }
      });
    } else if (typeof v.auth_token === 'string' && typeof v.url === 'string') {
      test(`${label}: X-Twilio-Signature verifies`, () => {
        const url = v.url as string;
        const token = v.auth_token as string;
        const pairs = v.params as [string, string][];
        assert.ok(Array.isArray(pairs), 'params are name/value pairs');
        assert.equal(signTwilio(url, pairs, token), v.expected);
        assert.equal(verifyTwilioSignature(url, pairs, v.expected, token), true);
        // The same fields as a form parser's object (a repeated name becomes an array).
        const asObject: Record<string, string | string[]> = {};
        for (const [k, val] of pairs) {
          const prev = asObject[k];
          asObject[k] = prev === undefined ? val : [...(Array.isArray(prev) ? prev : [prev]), val];
        }
        assert.equal(verifyTwilioSignature(url, asObject, v.expected, token), true);
        if (typeof v.form_body === 'string') {
          const form = new URLSearchParams(v.form_body);
          assert.deepEqual([...form], pairs, 'form_body decodes to params');
          assert.equal(verifyTwilioSignature(url, form, v.expected, token), true);
        }
        const bare = withoutDefaultPort(url);
        if (bare !== url) assert.equal(verifyTwilioSignature(bare, pairs, v.expected, token), true, 'default port variant');
        for (const bad of v.must_reject ?? []) {
          assert.equal(verifyTwilioSignature(url, pairs, bad, token), false, `must reject ${bad}`);
        }
      });
    } else {
      test(`${label}: a known kind of vector`, () => {
        assert.fail(`unrecognised vector shape in signatures.json: ${JSON.stringify(v).slice(0, 200)}`);
      });
    }
  });
}

test('the vector file is not empty and has Meta and Twilio vectors', () => {
  assert.ok(vectorCount >= 8, `found ${vectorCount} vectors`);
  assert.ok(Object.keys(vectorFile).some((k) => k.startsWith('meta')));
  assert.ok(Object.keys(vectorFile).some((k) => k.startsWith('twilio')));
});

// ---- Meta ----------------------------------------------------------------------------------------

const SECRET = 'test_app_secret';
const unicodeBody = readFileSync(new URL('meta-unicode.body', VECTORS_DIR));
const goodHeader = signMeta(unicodeBody, SECRET);

test('Meta: the escaped-unicode body is hashed as sent, not re-serialised', () => {
  assert.equal(unicodeBody.length, 434);
  const reserialised = Buffer.from(JSON.stringify(JSON.parse(unicodeBody.toString('utf8'))), 'utf8');
  assert.notDeepEqual(reserialised, unicodeBody);
  assert.equal(verifyMetaSignature(reserialised, goodHeader, SECRET), false);
  // The vector's must_reject values are exactly what such a verifier would compute.
  const vector = (vectorFile.meta_hub_signature_256 as Vector[] | undefined)?.find((v) => v.body_file === 'meta-unicode.body');
  if (vector) assert.ok(vector.must_reject?.includes(signMeta(reserialised, SECRET)));
});

test('Meta: a body altered by one byte is rejected', () => {
  for (const at of [0, 200, unicodeBody.length - 1]) {
    const altered = Buffer.from(unicodeBody);
    altered[at] ^= 0x01;
    assert.equal(verifyMetaSignature(altered, goodHeader, SECRET), false, `byte ${at}`);
  }
  assert.equal(verifyMetaSignature(Buffer.concat([unicodeBody, Buffer.from('\n')]), goodHeader, SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody.subarray(0, -1), goodHeader, SECRET), false);
});

test('Meta: a wrong or empty secret is rejected', () => {
  assert.equal(verifyMetaSignature(unicodeBody, goodHeader, 'test_app_secreT'), false);
  assert.equal(verifyMetaSignature(unicodeBody, goodHeader, ''), false);
  const emptyKeyed = signMeta(Buffer.from('x'), '');
  assert.equal(verifyMetaSignature(Buffer.from('x'), emptyKeyed, ''), false);
});

test('Meta: a missing or empty header is rejected', () => {
  assert.equal(verifyMetaSignature(unicodeBody, undefined, SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody, '', SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody, 'sha256=', SECRET), false);
});

test('Meta: a wrong prefix is rejected', () => {
  const hex = goodHeader.slice('sha256='.length);
  for (const h of [hex, `sha1=${hex}`, `sha256:${hex}`, ` sha256=${hex}`, `sha256= ${hex}`, `SHA256=${hex}`, `sha512=${hex}`]) {
    assert.equal(verifyMetaSignature(unicodeBody, h, SECRET), false, h);
  }
});

test('Meta: truncated, padded or non-hex digests are rejected', () => {
  assert.equal(verifyMetaSignature(unicodeBody, goodHeader.slice(0, -1), SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody, goodHeader.slice(0, -2), SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody, goodHeader.slice(0, 'sha256='.length + 32), SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody, `${goodHeader}00`, SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody, `${goodHeader} `, SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody, `${goodHeader.slice(0, -1)}g`, SECRET), false);
  assert.equal(verifyMetaSignature(unicodeBody, `sha256=${'0'.repeat(64)}`, SECRET), false);
});

test('Meta: upper-case hex is accepted', () => {
  const upper = `sha256=${goodHeader.slice('sha256='.length).toUpperCase()}`;
  assert.notEqual(upper, goodHeader);
  assert.equal(verifyMetaSignature(unicodeBody, upper, SECRET), true);
});

test('Meta: signMeta gives lowercase hex that round-trips', () => {
  const body = Buffer.from('{"text":"₹1,250 चाहिए"}', 'utf8');
  const h = signMeta(body, 's3cret');
  assert.match(h, /^sha256=[0-9a-f]{64}$/);
  assert.equal(verifyMetaSignature(body, h, 's3cret'), true);
});

// ---- Twilio --------------------------------------------------------------------------------------

const T_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const T_PARAMS: Record<string, string> = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const T1 = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';

test('Twilio: field order does not matter, values and names do', () => {
  const reversed = Object.entries(T_PARAMS).reverse();
  assert.equal(verifyTwilioSignature(T_URL, reversed, T1, '12345'), true);
  assert.equal(verifyTwilioSignature(T_URL, { ...T_PARAMS, Digits: '1235' }, T1, '12345'), false);
  assert.equal(verifyTwilioSignature(T_URL, { ...T_PARAMS, Extra: '' }, T1, '12345'), false);
  const { To: _to, ...missingOne } = T_PARAMS;
  assert.equal(verifyTwilioSignature(T_URL, missingOne, T1, '12345'), false);
});

test('Twilio: the URL is part of the signature, default port either way', () => {
  assert.equal(verifyTwilioSignature('https://mycompany.com:443/myapp.php?foo=1&bar=2', T_PARAMS, T1, '12345'), true);
  assert.equal(verifyTwilioSignature('https://mycompany.com/myapp.php?foo=1&bar=2', T_PARAMS, 'kvajT1Ptam85bY51eRf/AJRuM3w=', '12345'), true);
  assert.equal(verifyTwilioSignature('http://mycompany.com/myapp.php?foo=1&bar=2', T_PARAMS, T1, '12345'), false);
  assert.equal(verifyTwilioSignature('https://mycompany.com:8443/myapp.php?foo=1&bar=2', T_PARAMS, T1, '12345'), false);
  assert.equal(verifyTwilioSignature('https://mycompany.com/myapp.php?bar=2&foo=1', T_PARAMS, T1, '12345'), false);
  assert.equal(verifyTwilioSignature('https://mycompany.com/myapp.php', T_PARAMS, T1, '12345'), false);
});

test('Twilio: repeated keys sort by value; identical repeats are accepted as the SDKs compute them', () => {
  const pairs: [string, string][] = [['Sid', 'CA123'], ['SidAccount', 'AC123'], ['Digits', '5678'], ['Digits', '1234']];
  assert.equal(verifyTwilioSignature(T_URL, pairs, 'IK+Dwps556ElfBT0I3Rgjkr1wJU=', '12345'), true);
  assert.equal(verifyTwilioSignature(T_URL, { Sid: 'CA123', SidAccount: 'AC123', Digits: ['1234', '5678'] }, 'IK+Dwps556ElfBT0I3Rgjkr1wJU=', '12345'), true);
  // Only one Digits value: a different message.
  assert.equal(verifyTwilioSignature(T_URL, pairs.slice(0, 3), 'IK+Dwps556ElfBT0I3Rgjkr1wJU=', '12345'), false);
  const twice: [string, string][] = [['A', '1'], ['A', '1']];
  assert.equal(verifyTwilioSignature(T_URL, twice, signTwilio(T_URL, twice, 'k'), 'k'), true);
  assert.equal(verifyTwilioSignature(T_URL, twice, signTwilio(T_URL, [['A', '1']], 'k'), 'k'), true);
});

test('Twilio: a JSON body signed through bodySHA256 in the URL (no form fields)', () => {
  const url = `${T_URL}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`;
  assert.equal(verifyTwilioSignature(url, {}, 'a9nBmqA0ju/hNViExpshrM61xv4=', '12345'), true);
  assert.equal(verifyTwilioSignature(url, [], 'a9nBmqA0ju/hNViExpshrM61xv4=', '12345'), true);
});

test('Twilio: wrong token, missing, truncated or altered header are rejected', () => {
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, T1, '12346'), false);
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, T1, ''), false);
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, undefined, '12345'), false);
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, '', '12345'), false);
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, T1.slice(0, -1), '12345'), false);
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, T1.slice(0, 20), '12345'), false);
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, `${T1} `, '12345'), false);
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, T1.toLowerCase(), '12345'), false);
  assert.equal(verifyTwilioSignature(T_URL, T_PARAMS, `sha1=${T1}`, '12345'), false);
});

// ---- Telegram ------------------------------------------------------------------------------------

test('Telegram: the secret token header must equal the configured secret', () => {
  assert.equal(verifyTelegramSecret('my_Secret-token_1', 'my_Secret-token_1'), true);
  assert.equal(verifyTelegramSecret('my_secret-token_1', 'my_Secret-token_1'), false);
  assert.equal(verifyTelegramSecret('my_Secret-token_', 'my_Secret-token_1'), false);
  assert.equal(verifyTelegramSecret('my_Secret-token_12', 'my_Secret-token_1'), false);
  assert.equal(verifyTelegramSecret(undefined, 'my_Secret-token_1'), false);
  assert.equal(verifyTelegramSecret('', 'my_Secret-token_1'), false);
  assert.equal(verifyTelegramSecret('', ''), false);
  assert.equal(verifyTelegramSecret('anything', ''), false);
});
