// Small shared pieces: labelled fields, error and status lines, a loader hook, and a button that
// shows it is working and reports the API's answer.
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';
import { t } from './text';

let seq = 0;
export const useId = () => useState(() => `f${++seq}`)[0];

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'onInput' | 'value' | 'label'> & { label: string; value: string; onInput: (v: string) => void; hint?: string };

export function Field({ label, value, onInput, hint, ...rest }: InputProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} value={value} onInput={(e) => onInput((e.currentTarget as HTMLInputElement).value)} aria-describedby={hint ? `${id}-h` : undefined} {...(rest as any)} />
      {hint && <small id={`${id}-h`}>{hint}</small>}
    </div>
  );
}

export function TextArea({ label, value, onInput, rows = 3 }: { label: string; value: string; onInput: (v: string) => void; rows?: number }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} rows={rows} value={value} onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)} />
    </div>
  );
}

export function Select({ label, value, onChange, options }: { label: string; value: string; onChange: (v: string) => void; options: [string, string][] }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        {options.map(([v, l]) => <option value={v} key={v}>{l}</option>)}
      </select>
    </div>
  );
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = err.problem.errors?.map((e) => `${e.field}: ${e.message}`).join('; ');
    return fields ? `${err.message} (${fields})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function ErrorLine({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  if (error instanceof ApiError && error.missingRoute) return <p class="notice" role="status">{t.notConnected(what ?? 'This')}</p>;
  return <p class="error" role="alert">{errorText(error)}</p>;
}

/** Loads on mount and whenever deps change; reload() fetches again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const reload = useCallback(async () => {
    try {
      const data = await load();
      setState({ data, loading: false });
    } catch (error) {
      setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    setState((s) => ({ ...s, loading: true }));
    void reload();
  }, [reload]);
  return { ...state, reload };
}

/** A button that runs an API call, disables itself meanwhile and shows the error under it. */
export function Action({ onRun, children, class: cls = '', what, confirm: ask, ...rest }: { onRun: () => Promise<unknown>; children: ComponentChildren; class?: string; what?: string; confirm?: string } & Omit<JSX.HTMLAttributes<HTMLButtonElement>, 'onClick' | 'class'>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <span class="action">
      <button type="button" class={cls} disabled={busy} aria-busy={busy} {...(rest as any)} onClick={async () => {
        if (ask && !window.confirm(ask)) return;
        setBusy(true);
        setError(null);
        try {
          await onRun();
        } catch (e) {
          setError(e);
        } finally {
          setBusy(false);
        }
      }}>{children}</button>
      <ErrorLine error={error} what={what} />
    </span>
  );
}

/** A form that submits through an API call and shows its error. */
export function Form({ onSubmit, children, label, class: cls = '' }: { onSubmit: () => Promise<unknown>; children: ComponentChildren; label?: string; class?: string }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form class={cls} aria-label={label} aria-busy={busy} onSubmit={async (e) => {
      e.preventDefault();
      if (busy) return;
      setBusy(true);
      setError(null);
      try {
        await onSubmit();
      } catch (err) {
        setError(err);
      } finally {
        setBusy(false);
      }
    }}>
      {children}
      <ErrorLine error={error} what={label} />
    </form>
  );
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

/** Keeps a screen current through the day: reloads every `everyMs` while visible, and on return to the tab. */
export function useAutoRefresh(reload: () => unknown, everyMs = 30_000) {
  useEffect(() => {
    const tick = () => { if (document.visibilityState === 'visible') void reload(); };
    const id = window.setInterval(tick, everyMs);
    document.addEventListener('visibilitychange', tick);
    return () => {
      clearInterval(id);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [reload, everyMs]);
}
