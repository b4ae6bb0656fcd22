// The order board: sales and their production orders in columns by due date (overdue, today,
// tomorrow, later), with what a counter does to them — finalize a draft, record a payment, assign
// the work, mark it ready, cancel.
import { useState } from 'preact/hooks';
import { get, patch, post, type Page } from '../api';
import { dateTime, dueBucket, isoToShopTime, money, shopTimeToIso, type DueBucket } from '../format';
import { useFeatures, type Features } from '../features';
import { can, useSession } from '../session';
import { t } from '../text';
import { useAutoRefresh, Action, Badge, ErrorLine, Field, Form, Select, useLoad } from '../ui';

export interface SaleItem { product_id: string; product_name: string; quantity: number; unit_price: string; line_total: string }
export interface Sale {
  id: string; customer_id: string; customer_name: string; status: string; invoice_no: string | null; items: SaleItem[];
  total: string; amount_paid: string; balance: string; payment_status: string; source: string; notes: string | null;
  production_order_id: string | null; created_at: string; due_at?: string | null; fulfilment?: string | null; delivery_address?: string | null;
}
interface Step { id: string; name: string; sequence: number; status: string; assigned_worker_id: string | null; assigned_worker_name: string | null; product_name: string; quantity: number }
interface ProductionOrder { id: string; order_no: string; sale_id: string; status: string; steps: Step[] }
interface Product { id: string; name: string; price: string }
interface Customer { id: string; name: string; mobile: string }

const COLUMNS: DueBucket[] = ['overdue', 'today', 'tomorrow', 'later', 'none'];
// The days a counter plans by are always on the board; overdue and undated only when there are some.
const ALWAYS = new Set<DueBucket>(['today', 'tomorrow', 'later']);

export function Orders() {
  const s = useSession();
  const role = s.value!.user.role;
  const manage = can.manageProduction(role);
  const api = useFeatures();
  const [hideDone, setHideDone] = useState(true);
  const [adding, setAdding] = useState(false);
  const board = useLoad(async () => {
    const [sales, orders, products, workers] = await Promise.all([
      get<Page<Sale>>('/sales?limit=200'),
      get<Page<ProductionOrder>>('/production-orders?limit=200'),
      get<Page<Product>>('/products?limit=200'),
      manage ? get<Page<{ id: string; name: string; role: string }>>('/users?limit=200') : Promise.resolve({ data: [], next_cursor: null }),
    ]);
    const bySale = new Map(orders.data.map((o) => [o.sale_id, o]));
    return { sales: sales.data, bySale, products: products.data, workers: workers.data.filter((u) => u.role !== 'sales') };
  });
  useAutoRefresh(board.reload);
  const d = board.data;
  const finished = (x: Sale) => {
    const po = d?.bySale.get(x.id);
    return x.status === 'final' && x.payment_status === 'paid' && (!po || po.status === 'ready');
  };
  const visible = (d?.sales ?? []).filter((x) => x.status !== 'cancelled' && !(hideDone && finished(x)));
  const columns = COLUMNS.map((c) => ({ c, sales: visible.filter((x) => dueBucket(x.due_at) === c).sort(byDue) }));

  return (
    <section>
      <div class="bar">
        <h1 tabIndex={-1}>{t.orders.title}</h1>
        <label class="check"><input type="checkbox" checked={hideDone} onChange={(e) => setHideDone((e.currentTarget as HTMLInputElement).checked)} /> {t.orders.hideFinished}</label>
        <button type="button" onClick={() => setAdding(!adding)} aria-expanded={adding}>{t.orders.newSale}</button>
      </div>
      {api.ready && (!api.has('patch', '/sales/{id}') || !api.has('post', '/sales/{id}/cancel')) && <p class="notice" role="status">{t.notConnected(t.orders.fixAndCancel)}</p>}
      {api.ready && !api.has('post', '/sales', 'due_at') && <p class="notice" role="status">{t.notConnected(t.orders.dueDates)}</p>}
      {adding && d && <NewSale api={api} products={d.products} onDone={() => { setAdding(false); void board.reload(); }} />}
      <ErrorLine error={board.error} />
      {board.loading && !d && <p>{t.loading}</p>}
      <div class="board">
        {d && columns.filter((col) => col.sales.length || ALWAYS.has(col.c)).map(({ c, sales }) => (
          <section class="column" key={c} aria-labelledby={`col-${c}`}>
            <h2 id={`col-${c}`}>{t.orders.columns[c]} <span class="count">{sales.length}</span></h2>
            {!sales.length && <p>{t.orders.empty}</p>}
            {sales.map((x) => <SaleCard key={x.id} api={api} sale={x} po={d!.bySale.get(x.id)} products={d!.products} workers={d!.workers} manage={manage} reload={board.reload} />)}
          </section>
        ))}
      </div>
    </section>
  );
}

const byDue = (a: Sale, b: Sale) => (a.due_at ?? a.created_at).localeCompare(b.due_at ?? b.created_at);

function SaleCard({ api, sale, po, products, workers, manage, reload }: { api: Features; sale: Sale; po?: ProductionOrder; products: Product[]; workers: { id: string; name: string }[]; manage: boolean; reload: () => Promise<void> }) {
  const [open, setOpen] = useState<'' | 'pay' | 'items'>('');
  const title = sale.invoice_no ?? t.orders.draft;
  const headingId = `sale-${sale.id}`;
  return (
    <article class="card sale" aria-labelledby={headingId} data-sale={sale.id}>
      <header>
        <h3 id={headingId}>{sale.customer_name} · {title}</h3>
        <div class="badges">
          {sale.status === 'draft' ? <Badge kind="draft">{t.orders.draft}</Badge> : <Badge kind={sale.payment_status}>{t.orders.payment[sale.payment_status]}</Badge>}
          {sale.source !== 'pos' && <Badge kind="source">{t.orders.source(sale.source)}</Badge>}
          {po && <Badge kind={`po-${po.status}`}>{t.orders.poStatus[po.status] ?? po.status}</Badge>}
        </div>
      </header>
      {sale.due_at && <p class="due">{t.orders.due}: {dateTime(sale.due_at)}{sale.fulfilment ? ` · ${sale.fulfilment === 'delivery' ? t.orders.delivery : t.orders.pickup}` : ''}{sale.delivery_address ? ` · ${sale.delivery_address}` : ''}</p>}
      {sale.notes && <p class="muted notes">{sale.notes}</p>}
      <ul class="items">
        {sale.items.map((i) => <li key={i.product_id}>{i.quantity} × {i.product_name} <span class="num">{money(i.line_total)}</span></li>)}
      </ul>
      <dl class="sums">
        <dt>{t.orders.total}</dt><dd>{money(sale.total)}</dd>
        {sale.status === 'final' && <><dt>{t.orders.paid}</dt><dd>{money(sale.amount_paid)}</dd><dt>{t.orders.balance}</dt><dd>{money(sale.balance)}</dd></>}
      </dl>
      {po && <Production po={po} workers={workers} manage={manage} reload={reload} />}
      <div class="actions">
        {sale.status === 'draft' && <>
          <Action class="primary" onRun={async () => { await post(`/sales/${sale.id}/finalize`); await reload(); }}>{t.orders.finalize}</Action>
          {api.has('patch', '/sales/{id}') && <button type="button" onClick={() => setOpen(open === 'items' ? '' : 'items')} aria-expanded={open === 'items'}>{t.orders.editItems}</button>}
        </>}
        {sale.status === 'final' && Number(sale.balance) > 0 &&
          <button type="button" onClick={() => setOpen(open === 'pay' ? '' : 'pay')} aria-expanded={open === 'pay'}>{t.orders.recordPayment}</button>}
        {po && manage && po.status === 'completed' &&
          <Action class="primary" onRun={async () => { await post(`/production-orders/${po.id}/ready`); await reload(); }}>{t.orders.markReady}</Action>}
        {api.has('post', '/sales/{id}/cancel') && (sale.status === 'draft' || Number(sale.amount_paid) === 0) &&
          <Action class="danger" what={t.orders.cancelSale} confirm={t.orders.confirmCancel} onRun={async () => { await post(`/sales/${sale.id}/cancel`); await reload(); }}>{t.orders.cancelSale}</Action>}
      </div>
      {open === 'pay' && <Payment sale={sale} onDone={() => { setOpen(''); void reload(); }} />}
      {open === 'items' && <DraftEditor api={api} sale={sale} products={products} onDone={() => { setOpen(''); void reload(); }} />}
    </article>
  );
}

function Production({ po, workers, manage, reload }: { po: ProductionOrder; workers: { id: string; name: string }[]; manage: boolean; reload: () => Promise<void> }) {
  const [worker, setWorker] = useState(workers[0]?.id ?? '');
  const unassigned = po.steps.filter((s) => !s.assigned_worker_id && s.status !== 'completed');
  return (
    <div class="production">
      <p class="po">{t.orders.production} {po.order_no}</p>
      <ol class="steps">
        {po.steps.map((s) => (
          <li key={s.id} class={`step-${s.status}`}>{s.name} · {s.product_name} <span class="muted">{s.assigned_worker_name ?? t.orders.unassigned} · {t.workbench.status[s.status]}</span></li>
        ))}
      </ol>
      {manage && unassigned.length > 0 && workers.length > 0 && (
        <div class="inline">
          <Select label={t.orders.worker} value={worker} onChange={setWorker} options={workers.map((w) => [w.id, w.name])} />
          <Action onRun={async () => {
            for (const s of unassigned) await post(`/production-orders/${po.id}/steps/${s.id}/assign`, { worker_id: worker });
            await reload();
          }}>{t.orders.assign} ({unassigned.length})</Action>
        </div>
      )}
    </div>
  );
}

function Payment({ sale, onDone }: { sale: Sale; onDone: () => void }) {
  const [amount, setAmount] = useState(sale.balance);
  const [method, setMethod] = useState('cash');
  const [reference, setReference] = useState('');
  return (
    <Form class="sub" label={t.orders.recordPayment} onSubmit={async () => {
      await post('/payments', { sale_id: sale.id, amount, method, ...(reference ? { reference } : {}) });
      onDone();
    }}>
      <Field label={t.orders.amount} value={amount} onInput={setAmount} inputMode="decimal" required />
      <Select label={t.orders.method} value={method} onChange={setMethod} options={Object.entries(t.orders.methods)} />
      <Field label={t.orders.reference} value={reference} onInput={setReference} />
      <button type="submit" class="primary">{t.orders.pay}</button>
    </Form>
  );
}

export function ItemsEditor({ products, initial, onSubmit, submitLabel, what, before }: {
  products: Product[]; initial: { product_id: string; quantity: string }[]; submitLabel: string; what: string;
  onSubmit: (items: { product_id: string; quantity: number }[]) => Promise<void>; before?: preact.ComponentChildren;
}) {
  const [rows, setRows] = useState(initial.length ? initial : [{ product_id: products[0]?.id ?? '', quantity: '1' }]);
  const set = (i: number, k: 'product_id' | 'quantity', v: string) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  return (
    <Form class="sub" label={what} onSubmit={() => onSubmit(rows.filter((r) => r.product_id).map((r) => ({ product_id: r.product_id, quantity: Number(r.quantity) })))}>
      {before}
      {rows.map((r, i) => (
        <div class="inline" key={i}>
          <Select label={t.orders.product} value={r.product_id} onChange={(v) => set(i, 'product_id', v)} options={products.map((p) => [p.id, `${p.name} (${money(p.price)})`])} />
          <Field label={t.orders.quantity} value={r.quantity} onInput={(v) => set(i, 'quantity', v)} inputMode="decimal" required />
        </div>
      ))}
      <div class="actions">
        <button type="button" onClick={() => setRows([...rows, { product_id: products[0]?.id ?? '', quantity: '1' }])}>{t.orders.addItem}</button>
        <button type="submit" class="primary">{submitLabel}</button>
      </div>
    </Form>
  );
}

/** When the order is wanted and how it leaves the shop, where the API has them (issue 8). */
interface Due { due: string; fulfilment: string; address: string }
function DueFields({ api, method, path, value, onChange }: { api: Features; method: string; path: string; value: Due; onChange: (v: Due) => void }) {
  if (!api.has(method, path, 'due_at')) return null;
  return (
    <div class="inline">
      <Field label={t.orders.dueAt} type="datetime-local" value={value.due} onInput={(due) => onChange({ ...value, due })} />
      {api.has(method, path, 'fulfilment') && <Select label={t.orders.fulfilment} value={value.fulfilment} onChange={(fulfilment) => onChange({ ...value, fulfilment })}
        options={[['pickup', t.orders.pickup], ['delivery', t.orders.delivery]]} />}
      {value.fulfilment === 'delivery' && api.has(method, path, 'delivery_address') &&
        <Field label={t.orders.address} value={value.address} onInput={(address) => onChange({ ...value, address })} required />}
    </div>
  );
}

function dueBody(api: Features, method: string, path: string, v: Due) {
  const body: Record<string, unknown> = {};
  if (api.has(method, path, 'due_at')) body.due_at = v.due ? shopTimeToIso(v.due) : null;
  if (api.has(method, path, 'fulfilment')) body.fulfilment = v.fulfilment;
  if (api.has(method, path, 'delivery_address')) body.delivery_address = v.fulfilment === 'delivery' && v.address ? v.address : null;
  return body;
}

function DraftEditor({ api, sale, products, onDone }: { api: Features; sale: Sale; products: Product[]; onDone: () => void }) {
  const [due, setDue] = useState<Due>({ due: isoToShopTime(sale.due_at), fulfilment: sale.fulfilment ?? 'pickup', address: sale.delivery_address ?? '' });
  return (
    <ItemsEditor products={products} initial={sale.items.map((i) => ({ product_id: i.product_id, quantity: String(i.quantity) }))}
      submitLabel={t.save} what={t.orders.editItems}
      before={<DueFields api={api} method="patch" path="/sales/{id}" value={due} onChange={setDue} />}
      onSubmit={async (items) => { await patch(`/sales/${sale.id}`, { items, ...dueBody(api, 'patch', '/sales/{id}', due) }); onDone(); }} />
  );
}

function NewSale({ api, products, onDone }: { api: Features; products: Product[]; onDone: () => void }) {
  const [due, setDue] = useState<Due>({ due: '', fulfilment: 'pickup', address: '' });
  const customers = useLoad(() => get<Page<Customer>>('/customers?limit=200'));
  const [customer, setCustomer] = useState('');
  const list = customers.data?.data ?? [];
  const chosen = customer || list[0]?.id || '';
  return (
    <div class="card">
      <h2>{t.orders.newSale}</h2>
      <ErrorLine error={customers.error} />
      <ItemsEditor products={products} initial={[]} submitLabel={t.orders.createDraft} what={t.orders.newSale}
        before={<>
          <Select label={t.orders.customer} value={chosen} onChange={setCustomer} options={list.map((c) => [c.id, `${c.name} ${c.mobile}`])} />
          <DueFields api={api} method="post" path="/sales" value={due} onChange={setDue} />
        </>}
        onSubmit={async (items) => { await post('/sales', { customer_id: chosen, items, ...dueBody(api, 'post', '/sales', due) }); onDone(); }} />
    </div>
  );
}
