// Which API routes this build of the service has, read once from its own OpenAPI document
// (/docs/json). The console offers an action only when its API exists, and says plainly that a
// part is not connected yet when it does not — it never pretends.
import { useEffect, useState } from 'preact/hooks';

type Doc = { paths?: Record<string, Record<string, any>> };
let doc: Promise<Doc> | null = null;
const load = () => (doc ??= fetch('/docs/json', { credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : {}), () => ({})));

export interface Features {
  /** e.g. has('patch', '/products/{id}'); with a body field or query parameter: has('post', '/sales', 'due_at'). */
  has(method: string, path: string, bodyField?: string): boolean;
  ready: boolean;
}

function check(d: Doc, method: string, path: string, bodyField?: string) {
  const op = d.paths?.[`/api/v1${path}`]?.[method.toLowerCase()];
  if (!op) return false;
  if (!bodyField) return true;
  const schema = op.requestBody?.content?.['application/json']?.schema;
  const params: { name: string }[] = op.parameters ?? [];
  return Boolean(schema?.properties?.[bodyField]) || params.some((x) => x.name === bodyField);
}

export function useFeatures(): Features {
  const [d, setD] = useState<Doc | null>(null);
  useEffect(() => { void load().then(setD); }, []);
  return { ready: d !== null, has: (m, p, f) => (d ? check(d, m, p, f) : false) };
}
