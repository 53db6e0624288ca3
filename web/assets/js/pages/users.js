// civreg UI: user administration (administrators; auditors read only).
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

const ROLES = ['clerk', 'registrar', 'enrolment_officer', 'approver', 'issuance_operator', 'auditor', 'admin'];

// The registry's account rules answer with a code (password_common,
// roles_conflict, ...): shown in the user's language; other errors as sent.
function explain(e) {
  const key = 'users.error.' + e.code;
  const text = t(key);
  return text === key ? e.message : text;
}

export async function render(app, { session }) {
  const admin = session.roles.includes('admin');
  const { users } = await api('GET', '/users');
  const msg = h('p', { class: 'error', role: 'alert', id: 'users-error' });
  const rows = users.map((u) => {
    const cells = [h('td', {}, name(u.username)), h('td', {}, u.office), h('td', {}, (u.roles || []).map((r) => t('role.' + r)).join(', ')),
      h('td', {}, u.disabled ? t('users.disabled') : t('users.active')), h('td', {}, u.created_at || '')];
    if (admin && !u.disabled && u.username !== session.username) {
      const b = h('button', { type: 'button', class: 'secondary', 'data-disable': u.username }, t('users.disable'));
      b.addEventListener('click', async () => {
        try {
          await api('POST', `/users/${encodeURIComponent(u.username)}/disable`);
          location.reload();
        } catch (e) {
          msg.textContent = explain(e);
        }
      });
      cells.push(h('td', {}, b));
    } else cells.push(h('td', {}));
    return h('tr', {}, cells);
  });
  app.append(h('h1', {}, t('users.title')), msg,
    h('table', { id: 'users' }, h('thead', {}, h('tr', {}, ['users.name', 'users.office', 'users.roles', 'users.state', 'users.created', 'users.action'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, rows)));
  if (!admin) return;
  const uname = h('input', { id: 'new-username', required: true, maxlength: 32, pattern: '[a-z0-9._-]{2,32}' });
  const pass = h('input', { id: 'new-password', type: 'password', required: true, minlength: 12, maxlength: 1024, autocomplete: 'new-password' });
  const boxes = ROLES.map((r) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: r, name: 'roles' }), ' ', t('role.' + r)));
  const form = h('form', { id: 'add-user', class: 'card' }, h('h2', {}, t('users.add')),
    h('label', { for: 'new-username' }, t('users.name')), uname,
    h('label', { for: 'new-password' }, t('signin.password')), pass,
    h('fieldset', {}, h('legend', {}, t('users.roles')), boxes),
    h('p', { class: 'hint' }, t('users.rules')),
    h('button', { type: 'submit' }, t('users.create')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    const roles = [...form.querySelectorAll('input[name=roles]:checked')].map((b) => b.value);
    try {
      await api('POST', '/users', { username: uname.value, password: pass.value, roles });
      location.reload();
    } catch (e) {
      msg.textContent = explain(e);
    }
  });
  app.append(form);
}
