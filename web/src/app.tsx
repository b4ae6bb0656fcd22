// The console's shell: who is signed in decides the menu and which screens open.
import { useEffect, useRef } from 'preact/hooks';
import { whenUnauthorized } from './api';
import { navigate, onLink, usePath } from './router';
import { can, forget, loadSession, logOut, useSession, type Role } from './session';
import { t } from './text';
import { Login, Register } from './screens/login';
import { Inbox } from './screens/inbox';
import { Leads } from './screens/leads';
import { Orders } from './screens/orders';
import { Workbench } from './screens/workbench';
import { Catalog } from './screens/catalog';
import { Customers } from './screens/customers';
import { Settings } from './screens/settings';

whenUnauthorized(forget);
void loadSession();

const SCREENS: { path: string; label: string; allowed: (r: Role) => boolean }[] = [
  { path: '/inbox', label: t.nav.inbox, allowed: can.inbox },
  { path: '/orders', label: t.nav.orders, allowed: can.orders },
  { path: '/leads', label: t.nav.leads, allowed: can.leads },
  { path: '/workbench', label: t.nav.workbench, allowed: can.workbench },
  { path: '/catalog', label: t.nav.catalog, allowed: can.catalog },
  { path: '/customers', label: t.nav.customers, allowed: can.customers },
  { path: '/settings', label: t.nav.settings, allowed: can.settings },
];

export const home = (role: Role) => (role === 'production_worker' ? '/workbench' : '/orders');

export function App() {
  const s = useSession();
  const path = usePath();
  const main = useRef<HTMLElement>(null);

  // Move focus to the new screen's heading, so keyboard and screen-reader users land on it.
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [path, s.value?.user.id]);

  if (!s.loaded) return <p class="loading">{t.loading}</p>;
  if (!s.value) {
    if (path !== '/login' && path !== '/register') navigate('/login', true);
    return <main ref={main} class="auth">{path === '/register' ? <Register /> : <Login />}</main>;
  }
  const { user, business } = s.value;
  const screens = SCREENS.filter((x) => x.allowed(user.role));
  const current = screens.find((x) => path === x.path || path.startsWith(`${x.path}/`));
  if (!current) {
    navigate(home(user.role), true);
    return null;
  }
  return (
    <>
      <a class="skip" href="#main">{t.skipToContent}</a>
      <header class="top">
        <a class="brand" href={home(user.role)} onClick={onLink}>{t.appName}</a>
        <nav aria-label={t.nav.label}>
          <ul>
            {screens.map((x) => (
              <li key={x.path}><a href={x.path} onClick={onLink} aria-current={x === current ? 'page' : undefined}>{x.label}</a></li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>{t.signedInAs(user.name, t.roles[user.role], business.name)}</span>
          <button type="button" class="link" onClick={() => void logOut().then(() => navigate('/login'))}>{t.nav.logOut}</button>
        </div>
      </header>
      <main ref={main} id="main">
        {current.path === '/inbox' && <Inbox path={path} />}
        {current.path === '/orders' && <Orders />}
        {current.path === '/leads' && <Leads />}
        {current.path === '/workbench' && <Workbench />}
        {current.path === '/catalog' && <Catalog />}
        {current.path === '/customers' && <Customers />}
        {current.path === '/settings' && <Settings />}
      </main>
    </>
  );
}
