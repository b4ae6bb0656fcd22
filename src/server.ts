// Start-up only: config -> database -> migrations -> buildApp() -> listen.
import { ConfigError, loadConfig } from './config.js';
import { openConfiguredDatabase } from './platform/db.js';
import { migrate } from './platform/migrations.js';
import { buildApp } from './app.js';
import { startRuntime } from './runtime.js';

function parseRole(argv: string[]): 'api' | 'worker' | 'all' {
  const arg = argv.find((a) => a.startsWith('--role='))?.slice('--role='.length) ?? 'all';
  if (arg !== 'api' && arg !== 'worker' && arg !== 'all') {
    console.error(`--role must be api, worker or all (got "${arg}")`);
    process.exit(2);
  }
  return arg;
}

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const role = parseRole(process.argv.slice(2));
  const db = await openConfiguredDatabase(config);
  const app = await buildApp({ config, db });
  const applied = await migrate(db, (m) => app.log.info(m));
  app.log.info({ database: db.kind, applied: applied.length, role }, 'database ready');

  const runtime = await startRuntime({ config, db, log: app.log, role });
  app.log.info({ role }, role === 'api' ? 'queue ready (sending only)' : 'queue ready, delivering events');
  if (role !== 'worker') {
    await app.listen({ port: config.port, host: config.host });
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await runtime.stop();
    await db.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
