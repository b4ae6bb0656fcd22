// `npm run migrate`: apply pending migrations and exit.
import { join } from 'node:path';
import { loadConfig } from './config.js';
import { openDatabase } from './platform/db.js';
import { migrate } from './platform/migrations.js';

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: join(config.dataDir, 'pgdata'), preparedStatements: config.databasePreparedStatements });
const applied = await migrate(db, (m) => console.log(m));
console.log(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
await db.close();
