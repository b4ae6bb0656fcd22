// The shop counter: every conversation on every channel, newest activity first; a thread with both
// directions and their delivery status; a reply box that knows WhatsApp's 24-hour window. New
// messages and status changes arrive over server-sent events (polling every 10 s if the stream
// cannot be opened).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, post, qs, type Page } from '../api';
import { dateTime, time } from '../format';
import { onLink } from '../router';
import { t } from '../text';
import { Action, Badge, ErrorLine, Field, Form, Select, TextArea, useLoad } from '../ui';

interface LastMessage { id: string; direction: string; message_text: string | null; message_type: string; status: string; created_at: string }
interface Template { event: string; name: string; language: string; params: string[] }
export interface Conversation {
  id: string; channel_id: string; channel_type: string; address: string | null; name: string | null; mobile: string | null;
  customer_id: string | null; lead_id: string | null; last_message: LastMessage | null; last_message_at: string | null;
  unread: number; needs_reply: boolean; window: { rule: string; open: boolean; closes_at: string | null }; templates: Template[];
}
interface Message {
  id: string; conversation_id: string; direction: string; status: string; message_text: string | null; message_type: string;
  error_code: string | null; error_message: string | null; created_at: string; automatic: boolean; sent_by: { id: string; name: string } | null;
  deleted: boolean; edited: boolean; template_name: string | null;
}

const POLL_MS = 10_000;

/** Server-sent events from /social/stream; falls back to polling when the stream will not open. */
function useLive(onEvent: (type: string, data: any) => void) {
  const [mode, setMode] = useState<'live' | 'polling'>('live');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    let timer: number | undefined;
    const poll = () => {
      setMode('polling');
      timer ??= window.setInterval(() => handler.current('poll', null), POLL_MS);
    };
    if (typeof EventSource === 'undefined') { poll(); return () => clearInterval(timer); }
    const es = new EventSource('/api/v1/social/stream');
    const on = (type: string) => (e: MessageEvent) => {
      let data: any = null;
      try { data = JSON.parse(e.data); } catch { /* not JSON */ }
      handler.current(type, data);
    };
    es.addEventListener('message', on('message'));
    es.addEventListener('conversation', on('conversation'));
    es.onopen = () => {
      setMode('live');
      if (timer !== undefined) { clearInterval(timer); timer = undefined; }
    };
    // EventSource retries by itself while the stream is merely interrupted; CLOSED means it gave up.
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) poll(); };
    return () => { es.close(); clearInterval(timer); };
  }, []);
  return mode;
}

export function Inbox({ path }: { path: string }) {
  const id = path.split('/')[2] || null;
  const [needsReply, setNeedsReply] = useState(false);
  const [q, setQ] = useState('');
  const [tick, setTick] = useState(0);
  const [threadTick, setThreadTick] = useState(0);
  const mode = useLive((type, data) => {
    setTick((n) => n + 1);
    if (type === 'poll' || !data || data.conversation_id === id || data.id === id) setThreadTick((n) => n + 1);
  });
  const list = useLoad(() => get<Page<Conversation>>(`/social/conversations${qs({ limit: 100, needs_reply: needsReply || undefined, q })}`), [needsReply, q, tick]);
  const notConnected = list.error instanceof ApiError && list.error.missingRoute;
  return (
    <section class={`inbox${id ? ' has-thread' : ''}`}>
      <div class="bar">
        <h1 tabIndex={-1}>{t.inbox.title}</h1>
        <span class="muted" role="status">{notConnected ? '' : mode === 'live' ? t.inbox.live : t.inbox.polling}</span>
      </div>
      <ErrorLine error={list.error} what={t.inbox.title} />
      <div class="split">
        <div class="list-pane">
          <div class="filters">
            <label class="check"><input type="checkbox" checked={needsReply} onChange={(e) => setNeedsReply((e.currentTarget as HTMLInputElement).checked)} /> {t.inbox.needsReplyOnly}</label>
            <Field label={t.inbox.searchLabel} type="search" value={q} onInput={setQ} />
          </div>
          {list.data && !list.data.data.length && <p>{t.inbox.empty}</p>}
          <ul class="conversations" aria-label={t.inbox.title}>
            {(list.data?.data ?? []).map((c) => (
              <li key={c.id}>
                <a href={`/inbox/${c.id}`} onClick={onLink} aria-current={c.id === id ? 'true' : undefined} class={c.unread ? 'unread' : ''}>
                  <span class="conv-name">{c.name ?? c.mobile ?? c.address}</span>
                  <span class="when">{dateTime(c.last_message_at)}</span>
                  <span class="last">{c.last_message?.direction === 'outbound' ? '↩ ' : ''}{c.last_message?.message_text ?? (c.last_message ? `[${c.last_message.message_type}]` : '')}</span>
                  <span class="marks">
                    <Badge kind="channel">{c.channel_type}</Badge>
                    {c.unread > 0 && <Badge kind="unread">{t.inbox.unread(c.unread)}</Badge>}
                    {c.needs_reply && <Badge kind="needs-reply">{t.inbox.needsReply}</Badge>}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        </div>
        <div class="thread-pane">
          {id ? <Thread key={id} id={id} tick={threadTick} onChange={() => setTick((n) => n + 1)} /> : <p class="muted">{t.inbox.pick}</p>}
        </div>
      </div>
    </section>
  );
}

function Thread({ id, tick, onChange }: { id: string; tick: number; onChange: () => void }) {
  const [older, setOlder] = useState<{ data: Message[]; cursor: string | null }>({ data: [], cursor: null });
  const conv = useLoad(() => get<Conversation>(`/social/conversations/${id}`), [id, tick]);
  const msgs = useLoad(() => get<Page<Message>>(`/social/conversations/${id}/messages?limit=50`), [id, tick]);
  const log = useRef<HTMLOListElement>(null);
  const c = conv.data;

  // Reading the thread clears its unread count.
  useEffect(() => {
    if (c && c.unread > 0) void post(`/social/conversations/${id}/read`).then(onChange, () => {});
  }, [c?.unread, id]);
  useEffect(() => {
    if (msgs.data && older.cursor === null && !older.data.length) setOlder({ data: [], cursor: msgs.data.next_cursor });
  }, [msgs.data]);
  useEffect(() => { log.current?.lastElementChild?.scrollIntoView({ block: 'end' }); }, [msgs.data?.data.length]);

  const latest = msgs.data?.data ?? [];
  const seen = new Set(latest.map((m) => m.id));
  const all = [...older.data.filter((m) => !seen.has(m.id)), ...latest];
  return (
    <article class="thread" aria-labelledby="thread-title">
      <a class="back" href="/inbox" onClick={onLink}>← {t.inbox.back}</a>
      <ErrorLine error={conv.error ?? msgs.error} what={t.inbox.thread} />
      {c && <ThreadHeader c={c} onLinked={() => { void conv.reload(); onChange(); }} />}
      {older.cursor && (
        <Action onRun={async () => {
          const p = await get<Page<Message>>(`/social/conversations/${id}/messages${qs({ limit: 50, cursor: older.cursor })}`);
          setOlder({ data: [...p.data, ...older.data], cursor: p.next_cursor });
        }}>{t.inbox.older}</Action>
      )}
      <ol class="messages" role="log" aria-label={t.inbox.thread} ref={log}>
        {all.map((m) => <MessageItem key={m.id} m={m} />)}
      </ol>
      {c && <Reply c={c} onSent={() => { void msgs.reload(); void conv.reload(); onChange(); }} />}
    </article>
  );
}

function ThreadHeader({ c, onLinked }: { c: Conversation; onLinked: () => void }) {
  const [linking, setLinking] = useState(false);
  return (
    <header class="thread-head">
      <h2 id="thread-title">{c.name ?? c.mobile ?? c.address} <Badge kind="channel">{c.channel_type}</Badge></h2>
      <p class="muted">
        {c.mobile ?? c.address}
        {' · '}
        {c.customer_id ? <a href="/customers" onClick={onLink}>{t.inbox.customer}</a> : c.lead_id ? <a href="/leads" onClick={onLink}>{t.inbox.lead}</a> : t.inbox.stranger}
      </p>
      {!c.customer_id && (linking
        ? <LinkCustomer c={c} onDone={() => { setLinking(false); onLinked(); }} />
        : <button type="button" onClick={() => setLinking(true)}>{t.inbox.linkTo}</button>)}
    </header>
  );
}

function LinkCustomer({ c, onDone }: { c: Conversation; onDone: () => void }) {
  const customers = useLoad(() => get<Page<{ id: string; name: string; mobile: string }>>('/customers?limit=200'));
  const [chosen, setChosen] = useState('');
  const list = customers.data?.data ?? [];
  const value = chosen || list[0]?.id || '';
  return (
    <Form class="inline" label={t.inbox.linkTo} onSubmit={async () => { await post(`/social/conversations/${c.id}/link`, { customer_id: value }); onDone(); }}>
      <Select label={t.inbox.customer} value={value} onChange={setChosen} options={list.map((x) => [x.id, `${x.name} ${x.mobile}`])} />
      <button type="submit">{t.inbox.link}</button>
    </Form>
  );
}

function MessageItem({ m }: { m: Message }) {
  const out = m.direction === 'outbound';
  const status = out ? (t.inbox.status[m.status] ?? m.status) : null;
  return (
    <li class={`msg ${out ? 'out' : 'in'}${m.automatic ? ' auto' : ''}`} data-status={m.status} data-id={m.id}>
      <p class="text">{m.deleted ? <em>{t.inbox.deleted}</em> : (m.message_text ?? `[${m.message_type}]`)}</p>
      <p class="meta">
        <time dateTime={m.created_at}>{time(m.created_at)}</time>
        {m.edited && ` · ${t.inbox.edited}`}
        {m.automatic && <> · <Badge kind="auto">{t.inbox.automatic}</Badge></>}
        {m.sent_by && ` · ${t.inbox.by(m.sent_by.name)}`}
        {status && <> · <span class={`status status-${m.status}`}>{status}</span></>}
      </p>
      {m.status === 'failed' && <p class="error">{t.inbox.failedBecause(m.error_message ?? m.error_code ?? '?')}</p>}
    </li>
  );
}

function Reply({ c, onSent }: { c: Conversation; onSent: () => void }) {
  const [text, setText] = useState('');
  const closed = c.window.rule !== 'none' && !c.window.open;
  const [tpl, setTpl] = useState(0);
  const [params, setParams] = useState<Record<string, string>>({});
  const template = c.templates[tpl];
  return (
    <div class="reply">
      {c.window.rule !== 'none' && (
        <p class={closed ? 'notice' : 'muted'} role="status">
          {closed ? t.inbox.windowClosed(c.window.closes_at ? dateTime(c.window.closes_at) : '') : c.window.closes_at ? t.inbox.windowOpen(dateTime(c.window.closes_at)) : ''}
        </p>
      )}
      {!closed && (
        <Form label={t.inbox.replyForm} onSubmit={async () => {
          await post(`/social/conversations/${c.id}/messages`, { text });
          setText('');
          onSent();
        }}>
          <TextArea label={t.inbox.reply} value={text} onInput={setText} rows={2} />
          <button type="submit" class="primary" disabled={!text.trim()}>{t.inbox.send}</button>
        </Form>
      )}
      {closed && (c.templates.length ? (
        <Form label={t.inbox.sendTemplate} onSubmit={async () => {
          await post(`/social/conversations/${c.id}/messages`, { template: template.name, params });
          onSent();
        }}>
          <Select label={t.inbox.template} value={String(tpl)} onChange={(v) => { setTpl(Number(v)); setParams({}); }}
            options={c.templates.map((x, i) => [String(i), `${x.name} (${x.language}) · ${x.event}`])} />
          {template.params.map((p) => <Field key={p} label={t.inbox.templateParam(p)} value={params[p] ?? ''} onInput={(v) => setParams({ ...params, [p]: v })} />)}
          <button type="submit" class="primary">{t.inbox.sendTemplate}</button>
        </Form>
      ) : <p class="notice">{t.inbox.noTemplates}</p>)}
    </div>
  );
}
