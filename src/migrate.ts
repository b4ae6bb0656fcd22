// `npm run migrate`: apply pending migrations and exit.
import { loadConfig } from './config.js';
import { openConfiguredDatabase } from './platform/db.js';
import { migrate } from './platform/migrations.js';

const config = loadConfig();
const db = await openConfiguredDatabase(config);
const applied = await migrate(db, (m) => console.log(m));
console.log(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
await db.close();
