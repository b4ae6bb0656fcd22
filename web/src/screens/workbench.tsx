// A production worker's screen: only the steps assigned to them, due soonest first, with Start and
// Complete buttons big enough for a thumb. Nothing about customers or money (the API gives none).
import { get, post, type Page } from '../api';
import { dateTime } from '../format';
import { t } from '../text';
import { useAutoRefresh, Action, ErrorLine, useLoad } from '../ui';

interface WorkerStep {
  id: string; name: string; status: string; product_name: string; quantity: number; production_order_id: string;
  order_no: string; order_status: string; due_at?: string | null; started_at: string | null; sequence: number;
}

export function Workbench() {
  const steps = useLoad(() => get<Page<WorkerStep>>('/worker/steps?limit=200'));
  useAutoRefresh(steps.reload);
  const list = [...(steps.data?.data ?? [])].sort((a, b) =>
    (a.due_at ?? '9999').localeCompare(b.due_at ?? '9999') || a.order_no.localeCompare(b.order_no) || a.sequence - b.sequence);
  return (
    <section>
      <h1 tabIndex={-1}>{t.workbench.title}</h1>
      <ErrorLine error={steps.error} />
      {steps.loading && !steps.data && <p>{t.loading}</p>}
      {steps.data && !list.length && <p>{t.workbench.empty}</p>}
      <ul class="work">
        {list.map((s) => (
          <li key={s.id} class={`card step step-${s.status}`} aria-labelledby={`step-${s.id}`}>
            <h2 id={`step-${s.id}`}>{t.workbench.step(s.name, s.product_name, s.quantity)}</h2>
            <p>{t.workbench.order(s.order_no)} · {t.workbench.status[s.status]}{s.due_at ? ` · ${dateTime(s.due_at)}` : ''}</p>
            {s.status === 'pending' && <Action class="big primary" onRun={async () => { await post(`/worker/steps/${s.id}/start`); await steps.reload(); }}>{t.workbench.start}</Action>}
            {s.status === 'in_progress' && <Action class="big primary" onRun={async () => { await post(`/worker/steps/${s.id}/complete`); await steps.reload(); }}>{t.workbench.complete}</Action>}
          </li>
        ))}
      </ul>
    </section>
  );
}
