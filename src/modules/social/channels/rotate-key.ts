// Re-encrypts every channel secret (api_key, api_secret, webhook_secret) from the current
// SECRETS_KEY to a new one, one transaction per business. Restartable: AES-GCM says which key a
// ciphertext is under (only the right key authenticates it), so a secret already under the new key
// is left alone and a run stopped half-way is finished by running it again.
import type { Database } from '../../../platform/db.js';
import { decryptSecret, encryptSecret } from '../../../platform/secrets.js';
import { withoutTenant, withTenant } from '../../../platform/tenancy.js';
import { ctxFor, SECRET_FIELDS } from './channels.service.js';

export interface RotationReport {
  businesses: number;
  channels: number;
  /** Secrets re-encrypted by this run. */
  rotated: number;
  /** Secrets found under the new key already (an earlier, interrupted run). */
  already: number;
  /** Secrets under neither key: left as they are, named here. */
  unreadable: { business_id: string; channel_id: string; field: string }[];
}

function opens(key: Buffer, stored: string, context: string): boolean {
  try {
    decryptSecret(key, stored, context);
    return true;
  } catch {
    return false;
  }
}

export async function rotateSecretsKey(db: Database, oldKey: Buffer, newKey: Buffer, log: (line: string) => void = () => {}): Promise<RotationReport> {
  const report: RotationReport = { businesses: 0, channels: 0, rotated: 0, already: 0, unreadable: [] };
  // Every channel has a routing entry under its own id, and the routing index is global: it names
  // every business that has channels without reading across tenants.
  const businesses = await withoutTenant(db, (tx) =>
    tx.query<{ business_id: string }>(`SELECT DISTINCT business_id FROM channel_routes ORDER BY business_id`));
  for (const { business_id } of businesses.rows) {
    const counts = await withTenant(db, business_id, async (tx) => {
      const c = { channels: 0, rotated: 0, already: 0 };
      const rows = await tx.query<Record<string, string | null> & { id: string }>(
        `SELECT id, api_key_enc, api_secret_enc, webhook_secret_enc FROM social_channels ORDER BY id FOR UPDATE`);
      for (const row of rows.rows) {
        c.channels++;
        const sets: string[] = [];
        const params: unknown[] = [row.id];
        for (const f of SECRET_FIELDS) {
          const stored = row[`${f}_enc`];
          if (!stored) continue;
          const context = ctxFor(row.id, f);
          if (opens(newKey, stored, context)) { c.already++; continue; }
          if (!opens(oldKey, stored, context)) { report.unreadable.push({ business_id, channel_id: row.id, field: f }); continue; }
          params.push(encryptSecret(newKey, decryptSecret(oldKey, stored, context), context));
          sets.push(`${f}_enc = $${params.length}`);
          c.rotated++;
        }
        // updated_at stays: nothing the owner set has changed.
        if (sets.length) await tx.query(`UPDATE social_channels SET ${sets.join(', ')} WHERE id = $1`, params);
      }
      return c;
    });
    report.businesses++;
    report.channels += counts.channels;
    report.rotated += counts.rotated;
    report.already += counts.already;
    log(`business ${business_id}: ${counts.channels} channel(s), ${counts.rotated} secret(s) re-encrypted, ${counts.already} already under the new key`);
  }
  return report;
}
