// Per-business template overrides on top of the defaults (en, hi). A body naming an unknown
// variable is refused when saved, not discovered when a customer gets "{{foo}}".
import { badRequest } from '../../../platform/errors.js';
import { withTenant, type Tx } from '../../../platform/tenancy.js';
import type { Ctx } from '../../context.js';
import { recordAudit } from '../../audit/index.js';
import { defaultTemplate, TEMPLATE_EVENTS, TEMPLATE_LOCALES, validateTemplate, type TemplateEvent, type TemplateLocale } from './templates.js';

function view(event: TemplateEvent, locale: TemplateLocale, override?: { body: string; updated_at: Date }) {
  const def = defaultTemplate(event, locale);
  return { event, locale, body: override?.body ?? def, is_default: !override, default_body: def, updated_at: (override?.updated_at ?? null) as any };
}

export async function listTemplates(ctx: Ctx) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query(`SELECT event, locale, body, updated_at FROM message_templates`);
    const by = new Map(r.rows.map((o: any) => [`${o.event}/${o.locale}`, o]));
    const data = TEMPLATE_EVENTS.flatMap((e) => TEMPLATE_LOCALES.map((l) => view(e, l, by.get(`${e}/${l}`))));
    return { data, next_cursor: null };
  });
}

export async function getTemplate(ctx: Ctx, event: TemplateEvent, locale: TemplateLocale) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => view(event, locale, await overrideOf(tx, event, locale)));
}

export async function putTemplate(ctx: Ctx, event: TemplateEvent, locale: TemplateLocale, body: string) {
  const v = validateTemplate(body);
  if (!v.ok) throw badRequest('Invalid template', v.errors.map((message) => ({ field: 'body', message })));
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const before = (await overrideOf(tx, event, locale, true))?.body ?? defaultTemplate(event, locale);
    const r = await tx.query(
      `INSERT INTO message_templates (business_id, event, locale, body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (business_id, event, locale) DO UPDATE SET body = EXCLUDED.body, updated_at = now()
       RETURNING body, updated_at`,
      [ctx.principal.businessId, event, locale, body]);
    if (before !== body) {
      await recordAudit(tx, ctx, {
        action: 'template.changed', entity_type: 'template', entity_id: `${event}/${locale}`,
        summary: `changed the ${event} message (${locale})`, changes: { body: [before, body] },
      });
    }
    return view(event, locale, r.rows[0]);
  });
}

export async function resetTemplate(ctx: Ctx, event: TemplateEvent, locale: TemplateLocale) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const gone = await tx.query<{ body: string }>(`DELETE FROM message_templates WHERE event = $1 AND locale = $2 RETURNING body`, [event, locale]);
    const def = defaultTemplate(event, locale);
    if (gone.rows[0] && gone.rows[0].body !== def) {
      await recordAudit(tx, ctx, {
        action: 'template.reset', entity_type: 'template', entity_id: `${event}/${locale}`,
        summary: `returned the ${event} message (${locale}) to the default`, changes: { body: [gone.rows[0].body, def] },
      });
    }
    return view(event, locale);
  });
}

async function overrideOf(tx: Tx, event: string, locale: string, forUpdate = false) {
  return (await tx.query(`SELECT body, updated_at FROM message_templates WHERE event = $1 AND locale = $2${forUpdate ? ' FOR UPDATE' : ''}`, [event, locale])).rows[0];
}

/**
 * The business's own wordings of an event, by locale (`{"hi": "…"}`, or null), as an SQL
 * expression over `event` (an SQL expression): read in the statement that reads what is rendered.
 */
export const templateOverridesSql = (event: string) =>
  `(SELECT jsonb_object_agg(t.locale, t.body) FROM message_templates t WHERE t.event = ${event})`;

/** The body to render for this business: its override (from templateOverridesSql), else the default. */
export function templateBody(overrides: Record<string, string> | null, event: TemplateEvent, locale: TemplateLocale): string {
  return overrides?.[locale] ?? defaultTemplate(event, locale);
}
