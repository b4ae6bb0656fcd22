// Who is signed in: the answer of GET /me (or of signing in), shared by every screen.
import { useEffect, useState } from 'preact/hooks';
import { del, get, post } from './api';

export type Role = 'admin' | 'manager' | 'sales' | 'production_worker';
export interface User { id: string; name: string; email: string; role: Role }
export interface Business { id: string; name: string; currency: string; locale: string; country: string; timezone: string }
export interface Session { user: User; business: Business }

const listeners = new Set<() => void>();
export const session: { value: Session | null; loaded: boolean } = { value: null, loaded: false };

function set(v: Session | null) {
  session.value = v;
  session.loaded = true;
  listeners.forEach((l) => l());
}

export function useSession() {
  const [, tick] = useState(0);
  const seen = session.loaded;
  useEffect(() => {
    const l = () => tick((n) => n + 1);
    listeners.add(l);
    // The session may have been settled between this render and the subscription (GET /me answers
    // fast): that change would otherwise be missed, leaving the screen on "Loading…".
    if (session.loaded !== seen) l();
    return () => void listeners.delete(l);
  }, []);
  return session;
}

export async function loadSession() {
  try {
    set(await get<Session>('/me'));
  } catch {
    set(null);
  }
}

export async function logIn(email: string, password: string) {
  set(await post<Session>('/auth/session', { email, password }));
}

export async function register(input: { business_name: string; name: string; email: string; password: string }) {
  await post('/auth/register', input); // the answer's bearer token is not kept: the cookie is the session
  await logIn(input.email, input.password);
}

export async function logOut() {
  await del('/auth/session').catch(() => {});
  set(null);
}

export const forget = () => set(null);

// What each role may open (SPEC §3): a production worker sees only the workbench.
export const can = {
  inbox: (r: Role) => r !== 'production_worker',
  leads: (r: Role) => r !== 'production_worker',
  orders: (r: Role) => r !== 'production_worker',
  manageProduction: (r: Role) => r === 'admin' || r === 'manager',
  workbench: (r: Role) => r !== 'sales',
  catalog: (r: Role) => r !== 'production_worker',
  editCatalog: (r: Role) => r === 'admin' || r === 'manager',
  customers: (r: Role) => r !== 'production_worker',
  settings: (r: Role) => r === 'admin',
};
