// Products and their production steps: add, edit, archive (archived products stay on old orders).
import { useState } from 'preact/hooks';
import { del, get, patch, post, qs, type Page } from '../api';
import { money } from '../format';
import { can, useSession } from '../session';
import { t } from '../text';
import { Action, Badge, ErrorLine, Field, Form, TextArea, useLoad } from '../ui';
import { useFeatures } from '../features';

interface Product { id: string; name: string; sku: string | null; price: string; production_steps: string[]; archived?: boolean; archived_at?: string | null }

export function Catalog() {
  const role = useSession().value!.user.role;
  const editable = can.editCatalog(role);
  const api = useFeatures();
  const canEdit = api.has('patch', '/products/{id}');
  const canArchive = api.has('delete', '/products/{id}');
  const canListArchived = api.has('get', '/products', 'include_archived');
  const [archived, setArchived] = useState(false);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const products = useLoad(() => get<Page<Product>>(`/products${qs({ limit: 200, include_archived: archived || undefined })}`), [archived]);
  const list = products.data?.data ?? [];
  return (
    <section>
      <div class="bar">
        <h1 tabIndex={-1}>{t.catalog.title}</h1>
        {canListArchived && <label class="check"><input type="checkbox" checked={archived} onChange={(e) => setArchived((e.currentTarget as HTMLInputElement).checked)} /> {t.catalog.showArchived}</label>}
        {editable && <button type="button" onClick={() => setAdding(!adding)} aria-expanded={adding}>{t.catalog.add}</button>}
      </div>
      {editable && api.ready && (!canEdit || !canArchive) && <p class="notice" role="status">{t.notConnected(t.catalog.editArchive)}</p>}
      {adding && <ProductForm title={t.catalog.add} onSubmit={async (body) => { await post('/products', body); setAdding(false); await products.reload(); }} />}
      <ErrorLine error={products.error} />
      {products.data && !list.length && <p>{t.catalog.empty}</p>}
      <ul class="cards">
        {list.map((p) => (
          <li key={p.id} class="card" aria-labelledby={`p-${p.id}`}>
            <h2 id={`p-${p.id}`}>{p.name} <span class="num">{money(p.price)}</span> {(p.archived || p.archived_at) && <Badge kind="archived">{t.catalog.archived}</Badge>}</h2>
            {p.sku && <p class="muted">{p.sku}</p>}
            <p>{p.production_steps.length ? p.production_steps.join(' → ') : t.catalog.noSteps}</p>
            {editable && editing !== p.id && !p.archived && (canEdit || canArchive) && (
              <div class="actions">
                {canEdit && <button type="button" onClick={() => setEditing(p.id)} aria-label={`${t.edit} ${p.name}`}>{t.edit}</button>}
                {canArchive && <Action class="danger" what={t.catalog.archive} aria-label={`${t.catalog.archive} ${p.name}`} confirm={t.catalog.confirmArchive(p.name)}
                  onRun={async () => { await del(`/products/${p.id}`); await products.reload(); }}>{t.catalog.archive}</Action>}
              </div>
            )}
            {editing === p.id && <ProductForm title={`${t.edit} ${p.name}`} initial={p} onCancel={() => setEditing(null)}
              onSubmit={async (body) => { await patch(`/products/${p.id}`, body); setEditing(null); await products.reload(); }} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ProductForm({ title, initial, onSubmit, onCancel }: { title: string; initial?: Product; onSubmit: (b: object) => Promise<void>; onCancel?: () => void }) {
  const [name, setName] = useState(initial?.name ?? '');
  const [sku, setSku] = useState(initial?.sku ?? '');
  const [price, setPrice] = useState(initial?.price ?? '');
  const [steps, setSteps] = useState((initial?.production_steps ?? []).join('\n'));
  return (
    <Form class="sub card" label={title} onSubmit={() => onSubmit({
      name, price, production_steps: steps.split('\n').map((s) => s.trim()).filter(Boolean), ...(sku ? { sku } : initial?.sku ? { sku: null } : {}),
    })}>
      <Field label={t.catalog.name} value={name} onInput={setName} required />
      <Field label={t.catalog.price} value={price} onInput={setPrice} inputMode="decimal" required />
      <Field label={t.catalog.sku} value={sku} onInput={setSku} />
      <TextArea label={t.catalog.steps} value={steps} onInput={setSteps} rows={3} />
      <div class="actions">
        <button type="submit" class="primary">{t.save}</button>
        {onCancel && <button type="button" onClick={onCancel}>{t.cancel}</button>}
      </div>
    </Form>
  );
}
