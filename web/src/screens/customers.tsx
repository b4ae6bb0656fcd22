// Customers: find, add, edit (name, mobile, language, WhatsApp updates).
import { useState } from 'preact/hooks';
import { get, patch, post, qs, type Page } from '../api';
import { t } from '../text';
import { onLink } from '../router';
import { ErrorLine, Field, Form, Select, useLoad } from '../ui';

interface Customer { id: string; name: string; mobile: string; email: string | null; locale: string | null; whatsapp_opt_in: boolean }

export function Customers() {
  const [q, setQ] = useState('');
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const list = useLoad(() => get<Page<Customer>>(`/customers${qs({ limit: 200, q })}`), [q]);
  return (
    <section>
      <div class="bar">
        <h1 tabIndex={-1}>{t.customers.title}</h1>
        <button type="button" onClick={() => setAdding(!adding)} aria-expanded={adding}>{t.customers.add}</button>
      </div>
      <Field label={t.customers.searchLabel} type="search" value={q} onInput={setQ} />
      {adding && <CustomerForm title={t.customers.add} onSubmit={async (b) => { await post('/customers', b); setAdding(false); await list.reload(); }} />}
      <ErrorLine error={list.error} />
      {list.data && !list.data.data.length && <p>{t.customers.empty}</p>}
      <ul class="cards">
        {(list.data?.data ?? []).map((c) => (
          <li key={c.id} class="card">
            <h2>{c.name}</h2>
            <p>{c.mobile}{c.email ? ` · ${c.email}` : ''} · {t.customers.locales[c.locale ?? ''] ?? c.locale ?? t.none}{c.whatsapp_opt_in ? '' : ' · STOP'}</p>
            {editing === c.id
              ? <CustomerForm title={`${t.edit} ${c.name}`} initial={c} onCancel={() => setEditing(null)} onSubmit={async (b) => { await patch(`/customers/${c.id}`, b); setEditing(null); await list.reload(); }} />
              : <button type="button" onClick={() => setEditing(c.id)} aria-label={`${t.edit} ${c.name}`}>{t.edit}</button>}
            <Channels customerId={c.id} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function CustomerForm({ title, initial, onSubmit, onCancel }: { title: string; initial?: Customer; onSubmit: (b: object) => Promise<void>; onCancel?: () => void }) {
  const [name, setName] = useState(initial?.name ?? '');
  const [mobile, setMobile] = useState(initial?.mobile ?? '');
  const [email, setEmail] = useState(initial?.email ?? '');
  const [locale, setLocale] = useState(initial?.locale ?? 'en');
  const [optIn, setOptIn] = useState(initial?.whatsapp_opt_in ?? true);
  return (
    <Form class="sub card" label={title} onSubmit={() => onSubmit({ name, mobile, locale, whatsapp_opt_in: optIn, ...(email ? { email } : {}) })}>
      <Field label={t.customers.name} value={name} onInput={setName} required />
      <Field label={t.customers.mobile} type="tel" value={mobile} onInput={setMobile} required />
      <Field label={t.customers.email} type="email" value={email} onInput={setEmail} />
      <Select label={t.customers.locale} value={locale} onChange={setLocale} options={Object.entries(t.customers.locales)} />
      <label class="check"><input type="checkbox" checked={optIn} onChange={(e) => setOptIn((e.currentTarget as HTMLInputElement).checked)} /> {t.customers.optIn}</label>
      <div class="actions">
        <button type="submit" class="primary">{t.save}</button>
        {onCancel && <button type="button" onClick={onCancel}>{t.cancel}</button>}
      </div>
    </Form>
  );
}

/** The customer's conversations: one per channel they have written from. */
function Channels({ customerId }: { customerId: string }) {
  const list = useLoad(() => get<Page<{ id: string; channel_type: string; address: string }>>(`/social/conversations${qs({ customer_id: customerId, limit: 20 })}`), [customerId]);
  const data = list.data?.data ?? [];
  if (!data.length) return <ErrorLine error={list.error} what={t.customers.channels} />;
  return (
    <p class="muted">{t.customers.channels}:{' '}
      {data.map((x, i) => <span key={x.id}>{i ? ', ' : ''}<a href={`/inbox/${x.id}`} onClick={onLink}>{x.channel_type} {x.address}</a></span>)}
    </p>
  );
}
