// The admin's settings: channels (secrets can be written, never read back), which events notify
// the customer, the message templates with a live preview in English and Hindi, and the staff.
import { useState } from 'preact/hooks';
import { get, patch, post, put, del, type Page } from '../api';
import { dateTime, money } from '../format';
import { useSession } from '../session';
import { t } from '../text';
import { Action, Badge, ErrorLine, Field, Form, Select, TextArea, useLoad } from '../ui';
import { useFeatures } from '../features';

interface Channel {
  id: string; channel_type: string; phone_number: string | null; account_id: string | null; is_active: boolean;
  settings: Record<string, any>; status: string; status_reason: string | null; has_api_key: boolean; has_api_secret: boolean;
  has_webhook_secret: boolean; webhook_url?: string; verify_token?: string | null; provider?: string;
  provider_info?: Record<string, any> | null; checked_at?: string | null;
}
interface Template { event: string; locale: string; body: string; is_default: boolean; default_body: string }

const TABS = ['channels', 'templates', 'staff'] as const;
const CHANNEL_TYPES = ['whatsapp', 'telegram', 'facebook', 'instagram'];
const PROVIDERS = ['meta', 'twilio', 'telegram', 'messenger', 'instagram', 'sandbox'];
// Every event notifies by default except a completed step (SPEC §6).
// As the service has it: these switches are off until the shop turns them on.
const DEFAULT_OFF = new Set(['production.step.completed', 'message.auto_reply']);
// Asking which product goes out with the order acknowledgement and follows its switch.
const NO_SWITCH = new Set(['lead.ask_which']);

export function Settings() {
  const [tab, setTab] = useState<(typeof TABS)[number]>('channels');
  const labels = { channels: t.settings.channels, templates: t.settings.templates, staff: t.settings.staff };
  return (
    <section>
      <h1 tabIndex={-1}>{t.settings.title}</h1>
      <div role="tablist" class="tabs" aria-label={t.settings.title}>
        {TABS.map((x) => (
          <button type="button" role="tab" key={x} id={`tab-${x}`} aria-selected={tab === x} aria-controls={`panel-${x}`} onClick={() => setTab(x)}>{labels[x]}</button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'channels' && <Channels />}
        {tab === 'templates' && <Templates />}
        {tab === 'staff' && <Staff />}
      </div>
    </section>
  );
}

function useEvents() {
  return useLoad(async () => [...new Set((await get<Page<Template>>('/social/templates')).data.map((x) => x.event))]);
}

function Channels() {
  const channels = useLoad(() => get<Page<Channel>>('/social/channels?limit=200'));
  const events = useEvents();
  const [adding, setAdding] = useState(false);
  return (
    <div>
      <button type="button" onClick={() => setAdding(!adding)} aria-expanded={adding}>{t.settings.addChannel}</button>
      {adding && <ChannelForm events={events.data ?? []} onDone={() => { setAdding(false); void channels.reload(); }} />}
      <ErrorLine error={channels.error} />
      <ul class="cards">
        {(channels.data?.data ?? []).map((c) => <ChannelCard key={c.id} c={c} events={events.data ?? []} reload={channels.reload} />)}
      </ul>
    </div>
  );
}

function ChannelCard({ c, events, reload }: { c: Channel; events: string[]; reload: () => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const api = useFeatures();
  return (
    <li class="card" aria-labelledby={`ch-${c.id}`}>
      <h2 id={`ch-${c.id}`}>{c.channel_type} · {c.phone_number ?? c.account_id} <Badge kind={c.status}>{c.status}</Badge> {!c.is_active && <Badge kind="inactive">{t.settings.inactive}</Badge>}</h2>
      {c.status_reason && <p class="notice">{c.status_reason}</p>}
      <p class="muted">{t.settings.provider}: {c.provider ?? c.settings.provider ?? 'meta'} · {t.settings.accountId}: {c.account_id ?? t.none}</p>
      {c.checked_at && <p class="muted">{t.settings.checkedAt(dateTime(c.checked_at))}{c.provider_info ? ` · ${Object.entries(c.provider_info).map(([k, v]) => `${k}: ${v}`).join(' · ')}` : ''}</p>}
      <div class="field">
        <span class="label">{t.settings.webhookUrl}</span>
        {c.webhook_url ? <code class="copy">{c.webhook_url}</code> : <p class="notice">{t.notConnected(t.settings.webhookUrlShort)}</p>}
      </div>
      {c.verify_token && <div class="field"><span class="label">{t.settings.verifyToken}</span><code class="copy">{c.verify_token}</code></div>}
      <div class="actions">
        {api.has('post', '/social/channels/{id}/check')
          ? <Action what={t.settings.check} onRun={async () => { await post(`/social/channels/${c.id}/check`); await reload(); }}>{t.settings.check}</Action>
          : api.ready && <p class="notice">{t.notConnected(t.settings.channelCheck)}</p>}
        <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>{t.edit}</button>
      </div>
      {editing && <ChannelForm c={c} events={events} onDone={() => { setEditing(false); void reload(); }} />}
    </li>
  );
}

function ChannelForm({ c, events, onDone }: { c?: Channel; events: string[]; onDone: () => void }) {
  const [type, setType] = useState(c?.channel_type ?? 'whatsapp');
  const [provider, setProvider] = useState(c?.provider ?? c?.settings.provider ?? 'meta');
  const [phone, setPhone] = useState(c?.phone_number ?? '');
  const [account, setAccount] = useState(c?.account_id ?? '');
  const [active, setActive] = useState(c?.is_active ?? true);
  const [secrets, setSecrets] = useState({ api_key: '', api_secret: '', webhook_secret: '' });
  const [switches, setSwitches] = useState<Record<string, boolean>>(c?.settings.notifications ?? {});
  const [mapped, setMapped] = useState<Record<string, { name: string; language: string; params?: string[] }>>(c?.settings.templates ?? {});
  const on = (e: string) => switches[e] ?? !DEFAULT_OFF.has(e);
  const secretField = (k: keyof typeof secrets, label: string, has?: boolean) => (
    <Field label={label} type="password" autoComplete="off" value={secrets[k]} onInput={(v) => setSecrets({ ...secrets, [k]: v })}
      placeholder={has ? t.settings.secretSet : t.settings.secretUnset} />
  );
  return (
    <Form class="sub card" label={c ? t.edit : t.settings.addChannel} onSubmit={async () => {
      const written = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v));
      const settings = { ...(c?.settings ?? {}), provider, notifications: switches, templates: mapped };
      const body = { phone_number: phone || null, account_id: account || null, is_active: active, settings, ...written };
      if (c) await patch(`/social/channels/${c.id}`, body);
      else await post('/social/channels', { channel_type: type, ...body });
      onDone();
    }}>
      {!c && <Select label={t.settings.channelType} value={type} onChange={setType} options={CHANNEL_TYPES.map((x) => [x, x])} />}
      <Select label={t.settings.provider} value={provider} onChange={setProvider} options={PROVIDERS.map((x) => [x, x])} />
      <Field label={t.settings.phone} type="tel" value={phone} onInput={setPhone} />
      <Field label={t.settings.accountId} value={account} onInput={setAccount} />
      {secretField('api_key', t.settings.apiKey, c?.has_api_key)}
      {secretField('api_secret', t.settings.apiSecret, c?.has_api_secret)}
      {secretField('webhook_secret', t.settings.webhookSecret, c?.has_webhook_secret)}
      <label class="check"><input type="checkbox" checked={active} onChange={(e) => setActive((e.currentTarget as HTMLInputElement).checked)} /> {t.settings.active}</label>
      <fieldset>
        <legend>{t.settings.notifications}</legend>
        {events.filter((e) => !NO_SWITCH.has(e)).map((e) => (
          <label class="check" key={e}><input type="checkbox" checked={on(e)} onChange={(x) => setSwitches({ ...switches, [e]: (x.currentTarget as HTMLInputElement).checked })} /> {t.settings.events[e] ?? e}</label>
        ))}
      </fieldset>
      {type === 'whatsapp' && <TemplateMap events={events} mapped={mapped} setMapped={setMapped} />}
      <button type="submit" class="primary">{t.save}</button>
    </Form>
  );
}

/** WhatsApp's approved templates, mapped per event: what may be sent outside the 24-hour window. */
function TemplateMap({ events, mapped, setMapped }: { events: string[]; mapped: Record<string, any>; setMapped: (m: Record<string, any>) => void }) {
  return (
    <fieldset>
      <legend>{t.settings.approved}</legend>
      {events.map((e) => {
        const m = mapped[e] ?? { name: '', language: 'en', params: [] };
        const set = (k: string, v: any) => {
          const next = { ...m, [k]: v };
          const copy = { ...mapped };
          if (next.name) copy[e] = next; else delete copy[e];
          setMapped(copy);
        };
        return (
          <div class="inline" key={e}>
            <Field label={t.settings.approvedName(t.settings.events[e] ?? e)} value={m.name} onInput={(v) => set('name', v.trim())} />
            <Field label={t.settings.approvedLanguage} value={m.language} onInput={(v) => set('language', v.trim())} />
            <Field label={t.settings.approvedParams} value={(m.params ?? []).join(', ')} onInput={(v) => set('params', v.split(',').map((s) => s.trim()).filter(Boolean))} />
          </div>
        );
      })}
    </fieldset>
  );
}

const SAMPLE = (businessName: string): Record<string, string> => ({
  customerName: 'रवि कुमार', businessName, invoiceNo: 'INV-000042', total: money('1300'), orderNo: 'PO-000042',
  amount: money('500'), balance: money('800'), stepName: 'Bake',
});
export const render = (body: string, vars: Record<string, string>) =>
  body.replace(/\{\{([^{}]*)\}\}/g, (_m, inner: string) => vars[inner.trim()] ?? '');

function Templates() {
  const business = useSession().value!.business;
  const all = useLoad(() => get<Page<Template>>('/social/templates'));
  const events = [...new Set((all.data?.data ?? []).map((x) => x.event))];
  const [event, setEvent] = useState('');
  const chosen = event || events[0] || '';
  return (
    <div>
      <ErrorLine error={all.error} />
      {events.length > 0 && <Select label={t.settings.event} value={chosen} onChange={setEvent} options={events.map((e) => [e, t.settings.events[e] ?? e])} />}
      <p class="muted">{t.settings.variables}: {Object.keys(SAMPLE('')).map((v) => `{{${v}}}`).join(' ')}</p>
      <div class="two">
        {(all.data?.data ?? []).filter((x) => x.event === chosen).map((x) => (
          <TemplateEditor key={`${x.event}-${x.locale}`} tpl={x} sample={SAMPLE(business.name)} reload={all.reload} />
        ))}
      </div>
    </div>
  );
}

function TemplateEditor({ tpl, sample, reload }: { tpl: Template; sample: Record<string, string>; reload: () => Promise<void> }) {
  const [body, setBody] = useState(tpl.body);
  const lang = tpl.locale === 'hi' ? t.settings.hindi : t.settings.english;
  return (
    <Form class="card" label={`${lang} ${t.settings.body}`} onSubmit={async () => { await put(`/social/templates/${tpl.event}?locale=${tpl.locale}`, { body }); await reload(); }}>
      <h2>{lang} {tpl.is_default && <Badge kind="default">{t.settings.isDefault}</Badge>}</h2>
      <TextArea label={`${lang} ${t.settings.body}`} value={body} onInput={setBody} rows={4} />
      <p class="label">{t.settings.preview}</p>
      <p class="preview" lang={tpl.locale} aria-live="polite">{render(body, sample)}</p>
      <div class="actions">
        <button type="submit" class="primary">{t.save}</button>
        {!tpl.is_default && <Action onRun={async () => { await del(`/social/templates/${tpl.event}?locale=${tpl.locale}`); setBody(tpl.default_body); await reload(); }}>{t.settings.reset}</Action>}
      </div>
    </Form>
  );
}

interface Staffer { id: string; name: string; email: string; role: string; is_active?: boolean }

function Staff() {
  const me = useSession().value!.user;
  const users = useLoad(() => get<Page<Staffer>>('/users?limit=200'));
  const api = useFeatures();
  const editable = api.has('patch', '/users/{id}');
  const [f, setF] = useState({ name: '', email: '', password: '', role: 'production_worker' });
  const roles = Object.entries(t.roles);
  return (
    <div>
      <Form class="card sub" label={t.settings.addUser} onSubmit={async () => { await post('/users', f); setF({ ...f, name: '', email: '', password: '' }); await users.reload(); }}>
        <h2>{t.settings.addUser}</h2>
        <Field label={t.settings.userName} value={f.name} onInput={(v) => setF({ ...f, name: v })} required />
        <Field label={t.settings.userEmail} type="email" value={f.email} onInput={(v) => setF({ ...f, email: v })} required autoComplete="off" />
        <Field label={t.settings.userPassword} type="password" value={f.password} onInput={(v) => setF({ ...f, password: v })} required minLength={8} autoComplete="new-password" />
        <Select label={t.settings.role} value={f.role} onChange={(v) => setF({ ...f, role: v })} options={roles} />
        <button type="submit" class="primary">{t.add}</button>
      </Form>
      <ErrorLine error={users.error} />
      {api.ready && !editable && <p class="notice" role="status">{t.notConnected(t.settings.staffChanges)}</p>}
      <ul class="cards">
        {(users.data?.data ?? []).map((u) => (
          <li class="card" key={u.id}>
            <h2>{u.name} {u.is_active === false && <Badge kind="inactive">{t.settings.inactive}</Badge>}</h2>
            <p class="muted">{u.email}</p>
            {u.id !== me.id && editable ? <StaffControls u={u} reload={users.reload} /> : <p>{t.roles[u.role]}</p>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function StaffControls({ u, reload }: { u: Staffer; reload: () => Promise<void> }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <div class="inline">
      <Select label={`${t.settings.role} (${u.name})`} value={u.role} onChange={async (role) => {
        setError(null);
        try { await patch(`/users/${u.id}`, { role }); await reload(); } catch (e) { setError(e); }
      }} options={Object.entries(t.roles)} />
      <Action what={t.settings.deactivate} onRun={async () => { await patch(`/users/${u.id}`, { is_active: u.is_active === false }); await reload(); }}>
        {u.is_active === false ? t.settings.activate : t.settings.deactivate}
      </Action>
      <ErrorLine error={error} what={t.settings.staff} />
    </div>
  );
}
