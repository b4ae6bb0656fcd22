// `npm run rotate-secrets-key -- --new-key <64 hex | base64>` (or NEW_SECRETS_KEY in the
// environment): re-encrypts every channel secret from the current SECRETS_KEY to the new key, one
// transaction per business. Stop the service first; run it again if it was interrupted (secrets
// already under the new key are left alone). When the current key was generated into
// DATA_DIR/secrets-key, that file is replaced with the new key; otherwise set SECRETS_KEY to the
// new key for every process before starting them again.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { ConfigError, loadConfig, parseKey } from '../src/config.js';
import { openConfiguredDatabase } from '../src/platform/db.js';
import { migrate } from '../src/platform/migrations.js';
import { rotateSecretsKey } from '../src/modules/social/channels/rotate-key.js';

const USAGE = `usage: npm run rotate-secrets-key -- --new-key <64 hex characters | base64 of 32 bytes>
       NEW_SECRETS_KEY=<key> npm run rotate-secrets-key
Re-encrypts every channel secret from the current SECRETS_KEY (or DATA_DIR/secrets-key) to the new key.
Stop the service first. Safe to run again after an interruption.
Make a key with: node -e "console.log(require('crypto').randomBytes(32).toString('hex'))"`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const i = args.findIndex((a) => a === '--new-key' || a.startsWith('--new-key='));
const given = i < 0 ? undefined : args[i].includes('=') ? args[i].slice('--new-key='.length) : args[i + 1];
const newKey = given !== undefined ? parseKey(given.trim()) : config.newSecretsKey;
if (!newKey) fail(given !== undefined ? `--new-key must be 32 bytes as 64 hex characters or base64\n\n${USAGE}` : USAGE);
if (newKey.equals(config.secretsKey)) {
  console.log('The new key is the current key already: nothing to do.');
  process.exit(0);
}

// The new key is on disk before any secret is encrypted under it, so an interruption cannot lose it.
const pending = config.secretsKeyFile ? `${config.secretsKeyFile}.new` : undefined;
if (pending) writeFileSync(pending, newKey.toString('hex') + '\n', { mode: 0o600 });

const db = await openConfiguredDatabase(config);
try {
  await migrate(db, (line) => console.log(line)); // as `npm start` would: the tables are those this version knows
  const report = await rotateSecretsKey(db, config.secretsKey, newKey, (line) => console.log(line));
  console.log(`${report.businesses} business(es), ${report.channels} channel(s): ${report.rotated} secret(s) re-encrypted, `
    + `${report.already} already under the new key, ${report.unreadable.length} under neither key`);
  for (const u of report.unreadable) console.error(`  cannot read ${u.field} of channel ${u.channel_id} (business ${u.business_id}) with either key: left as it is; save that secret again`);
  if (pending && existsSync(pending)) {
    renameSync(pending, config.secretsKeyFile!);
    console.log(`${config.secretsKeyFile} now holds the new key.`);
  } else {
    console.log('Now set SECRETS_KEY to the new key for every process, then start them again.');
  }
  process.exitCode = report.unreadable.length ? 1 : 0;
} finally {
  await db.close();
}
