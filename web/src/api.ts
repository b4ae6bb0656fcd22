// One door to the Karigar API: same-origin fetches that carry the session cookie (the token never
// reaches JavaScript), problem+json answers turned into ApiError.
export interface Problem {
  status: number;
  code?: string;
  detail?: string;
  title?: string;
  errors?: { field: string; message: string }[];
  [k: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
  get code() {
    return this.problem.code;
  }
  /** The route itself does not exist in this build of the service (an API not merged yet). */
  get missingRoute() {
    return this.status === 404 && /^No route /.test(this.problem.detail ?? '');
  }
}

let onUnauthorized: () => void = () => {};
export function whenUnauthorized(fn: () => void) {
  onUnauthorized = fn;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : { detail: await res.text() };
  if (!res.ok) {
    if (res.status === 401 && path !== '/auth/session') onUnauthorized();
    throw new ApiError(res.status, { status: res.status, ...data });
  }
  return data as T;
}

export const get = <T = any>(path: string) => api<T>('GET', path);
export const post = <T = any>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const patch = <T = any>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T = any>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T = any>(path: string) => api<T>('DELETE', path);

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export function qs(params: Record<string, string | number | boolean | undefined | null>) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
