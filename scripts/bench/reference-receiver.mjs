// The least possible receiver of the ingest bench's webhooks, as its own process (as Karigar is):
// node:http, raw body, HMAC-SHA256 check, one INSERT … ON CONFLICT DO NOTHING, answer 200.
// Plain JavaScript, nothing compiled or loaded that the job does not need.
//
//   node reference-receiver.mjs <postgres URL | PGlite data directory> <secret>
//
// Prints "ready <port>" once it listens on 127.0.0.1; GET /count answers how many it stored.
import { createHmac } from 'node:crypto';
import http from 'node:http';

const [where, secret] = process.argv.slice(2);
const ddl = 'CREATE TABLE IF NOT EXISTS bench_inbound (provider_message_id text PRIMARY KEY, from_number text, body text)';
const insert = 'INSERT INTO bench_inbound (provider_message_id, from_number, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING';
const counting = 'SELECT count(*)::int AS n FROM bench_inbound';

let run, count, close;
if (/^postgres(ql)?:/.test(where)) {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: where, max: 10 }); // the pool Karigar has
  await pool.query(ddl);
  run = (params) => pool.query(insert, params);
  count = async () => (await pool.query(counting)).rows[0].n;
  close = () => pool.end();
} else {
  // One process owns a PGlite database: one INSERT per request, in this process.
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(where);
  await db.exec(ddl);
  run = (params) => db.query(insert, params);
  count = async () => (await db.query(counting)).rows[0].n;
  close = () => db.close();
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    count().then((n) => res.end(JSON.stringify({ count: n })), () => res.writeHead(500).end());
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const raw = Buffer.concat(chunks);
    const given = String(req.headers['x-hub-signature-256'] ?? '');
    const expected = 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex');
    if (given !== expected) { res.writeHead(401).end(); return; }
    try {
      const m = JSON.parse(raw.toString('utf8')).entry[0].changes[0].value.messages[0];
      await run([m.id, m.from, m.text?.body ?? null]);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":1}');
    } catch {
      res.writeHead(500).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`ready ${server.address().port}`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => close().then(() => process.exit(0)));
});
