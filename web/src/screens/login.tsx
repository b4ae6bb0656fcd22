import { useState } from 'preact/hooks';
import { navigate, onLink } from '../router';
import { logIn, register } from '../session';
import { t } from '../text';
import { Field, Form } from '../ui';

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  return (
    <section class="card narrow">
      <h1 tabIndex={-1}>{t.login.title}</h1>
      <Form label={t.login.title} onSubmit={async () => {
        await logIn(email, password);
        navigate('/', true);
      }}>
        <Field label={t.login.email} type="email" value={email} onInput={setEmail} required autoComplete="username" name="email" />
        <Field label={t.login.password} type="password" value={password} onInput={setPassword} required autoComplete="current-password" name="password" />
        <button type="submit" class="primary">{t.login.submit}</button>
      </Form>
      <p>{t.login.noAccount} <a href="/register" onClick={onLink}>{t.login.register}</a></p>
    </section>
  );
}

export function Register() {
  const [f, setF] = useState({ business_name: '', name: '', email: '', password: '' });
  const set = (k: keyof typeof f) => (v: string) => setF((x) => ({ ...x, [k]: v }));
  return (
    <section class="card narrow">
      <h1 tabIndex={-1}>{t.register.title}</h1>
      <Form label={t.register.title} onSubmit={async () => {
        await register(f);
        navigate('/', true);
      }}>
        <Field label={t.register.businessName} value={f.business_name} onInput={set('business_name')} required autoComplete="organization" />
        <Field label={t.register.name} value={f.name} onInput={set('name')} required autoComplete="name" />
        <Field label={t.register.email} type="email" value={f.email} onInput={set('email')} required autoComplete="username" />
        <Field label={t.register.password} type="password" value={f.password} onInput={set('password')} required minLength={8} autoComplete="new-password" />
        <button type="submit" class="primary">{t.register.submit}</button>
      </Form>
      <p>{t.register.haveAccount} <a href="/login" onClick={onLink}>{t.register.login}</a></p>
    </section>
  );
}
