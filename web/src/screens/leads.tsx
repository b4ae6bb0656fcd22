// Leads from the chats: what they asked for, their status, and making them customers.
import { useState } from 'preact/hooks';
import { get, patch, post, qs, type Page } from '../api';
import { dateTime } from '../format';
import { t } from '../text';
import { navigate } from '../router';
import { Action, Badge, ErrorLine, Select, useLoad } from '../ui';
import { ItemsEditor } from './orders';
import { useFeatures } from '../features';

interface Lead {
  id: string; name: string | null; mobile: string | null; source: string; status: string; customer_id: string | null; sale_id: string | null;
  notes: string | null; metadata: Record<string, any>; created_at: string;
}
const STATUSES = ['new', 'contacted', 'qualified', 'converted', 'lost'];

export function Leads() {
  const [status, setStatus] = useState('');
  const leads = useLoad(() => get<Page<Lead>>(`/leads${qs({ limit: 200, status })}`), [status]);
  const products = useLoad(() => get<Page<{ id: string; name: string; price: string }>>('/products?limit=200'));
  return (
    <section>
      <div class="bar">
        <h1 tabIndex={-1}>{t.leads.title}</h1>
        <Select label={t.leads.statusFilter} value={status} onChange={setStatus} options={[['', t.leads.all], ...STATUSES.map((s) => [s, t.leads.statuses[s]] as [string, string])]} />
      </div>
      <ErrorLine error={leads.error} />
      {leads.data && !leads.data.data.length && <p>{t.leads.empty}</p>}
      <ul class="cards">
        {(leads.data?.data ?? []).map((l) => <LeadCard key={l.id} lead={l} products={products.data?.data ?? []} reload={leads.reload} />)}
      </ul>
    </section>
  );
}

function LeadCard({ lead: l, products, reload }: { lead: Lead; products: { id: string; name: string; price: string }[]; reload: () => Promise<void> }) {
  const items: { product_id?: string; name: string; quantity: number }[] = l.metadata?.pending_order?.items ?? l.metadata?.items ?? [];
  const review: { reason: string; unclear?: { quantity: number; candidates: { product_id: string; name: string }[] }[] } | undefined = l.metadata?.needs_review;
  const unclear = review?.unclear ?? [];
  const [error, setError] = useState<unknown>(null);
  const [drafting, setDrafting] = useState(false);
  const api = useFeatures();
  // What the customer asked for, plus the first candidate of each unclear mention, as the draft's start.
  const start = [
    ...items.filter((i) => i.product_id).map((i) => ({ product_id: i.product_id!, quantity: String(i.quantity) })),
    ...unclear.filter((u) => u.candidates[0]).map((u) => ({ product_id: u.candidates[0].product_id, quantity: String(u.quantity) })),
  ];
  const dueAt: string | undefined = l.metadata?.pending_order?.due_at ?? l.metadata?.due_at ?? undefined;
  return (
    <li class="card" aria-labelledby={`lead-${l.id}`}>
      <h2 id={`lead-${l.id}`}>{l.name ?? l.mobile ?? t.none} <Badge kind={`lead-${l.status}`}>{t.leads.statuses[l.status] ?? l.status}</Badge></h2>
      <p class="muted">{l.mobile} · {l.source} · {dateTime(l.created_at)}</p>
      {l.metadata?.last_message && <p><span class="muted">{t.leads.lastMessage}:</span> <q>{l.metadata.last_message}</q></p>}
      {items.length > 0 && <p>{t.leads.wants}: {items.map((i) => `${i.quantity} × ${i.name}`).join(', ')}</p>}
      {review && <p class="notice">{t.leads.review[review.reason] ?? review.reason}</p>}
      {unclear.map((u, i) => <p key={i}>{t.leads.candidates}: {u.quantity} × {u.candidates.map((c) => c.name).join(' / ')}</p>)}
      {dueAt && <p>{t.leads.wanted}: {dateTime(dueAt)}{l.metadata?.due_text ? ` (“${l.metadata.due_text}”)` : ''}</p>}
      <div class="inline">
        {l.status !== 'converted' && (
          <Select label={t.leads.status} value={l.status} onChange={async (v) => {
            setError(null);
            try { await patch(`/leads/${l.id}`, { status: v }); await reload(); } catch (e) { setError(e); }
          }} options={STATUSES.filter((s) => s !== 'converted').map((s) => [s, t.leads.statuses[s]])} />
        )}
        {!l.customer_id && l.mobile && <Action class="primary" onRun={async () => { await post(`/leads/${l.id}/convert`); await reload(); }}>{t.leads.convert}</Action>}
        {l.customer_id && !l.sale_id && products.length > 0 &&
          <button type="button" onClick={() => setDrafting(!drafting)} aria-expanded={drafting}>{t.leads.makeDraft}</button>}
      </div>
      {drafting && l.customer_id && (
        <ItemsEditor products={products} initial={start} submitLabel={t.orders.createDraft} what={t.leads.makeDraft}
          onSubmit={async (its) => {
            await post('/sales', {
              customer_id: l.customer_id, items: its, notes: l.metadata?.last_message ? String(l.metadata.last_message).slice(0, 2000) : undefined,
              ...(dueAt && api.has('post', '/sales', 'due_at') ? { due_at: dueAt } : {}),
            });
            navigate('/orders');
          }} />
      )}
      <ErrorLine error={error} />
    </li>
  );
}
