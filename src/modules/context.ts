// What a use case needs: the database, the settings and who is asking.
import type { Config } from '../config.js';
import type { Database } from '../platform/db.js';
import type { Principal } from '../platform/auth.js';
import type { FastifyRequest } from 'fastify';

export interface Ctx {
  db: Database;
  config: Config;
  principal: Principal;
}

export function ctxOf(req: FastifyRequest): Ctx {
  const { db, config } = req.server.deps;
  return { db, config, principal: req.principal };
}
