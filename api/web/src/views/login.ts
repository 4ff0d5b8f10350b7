// Sign-in: username and password; the server's answer decides (failed, rate limited, locked).
import { ApiFailure, reviewApi, session } from '../api.js';
import { h } from '../dom.js';

export function loginView(root: HTMLElement, done: () => void) {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'login', 'aria-describedby': 'login-error' },
    h('h1', {}, 'Tidewatch review'),
    h('p', { class: 'muted' }, 'Customs image review: sign in with your reviewer account.'),
    h('label', { for: 'username' }, 'Username'), username,
    h('label', { for: 'password' }, 'Password'), password,
    submit, error);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    reviewApi.login(username.value.trim(), password.value).then(
      (r) => {
        session.save(r.token, r.user);
        done();
      },
      (err: unknown) => {
        submit.disabled = false;
        const f = err instanceof ApiFailure ? err : null;
        error.textContent =
          f?.code === 'LOGIN_FAILED' ? 'Wrong username or password.'
          : f?.code === 'ACCOUNT_LOCKED' ? 'This account is locked after too many failed attempts. Ask a supervisor or wait.'
          : f?.code === 'LOGIN_RATE_LIMITED' ? `Too many attempts. ${f.message}`
          : `Sign-in failed: ${(err as Error).message}`;
        password.select();
      },
    );
  });
  root.append(h('div', { class: 'login-page' }, form));
  username.focus();
  return { dispose: () => {} };
}
