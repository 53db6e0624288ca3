// civreg UI: user administration (administrators; auditors read only).
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { has, t } from '../i18n.js';

const ROLES = ['clerk', 'registrar', 'enrolment_officer', 'approver', 'issuance_operator', 'auditor', 'admin'];

// The registry's account rules answer with a code (password_common,
// roles_conflict, ...): shown in the user's language; other errors as sent.
function explain(e) {
  const key = 'users.error.' + e.code;
  return has(key) ? t(key) : e.message;
}

export async function render(app, { session }) {
  const admin = may('user.manage');
  const { users } = await api('GET', '/users');
  const msg = h('p', { class: 'error', role: 'alert', id: 'users-error' });
  // One card, filled for the user whose roles or password the admin
  // changes; either ends that user's sessions at once.
  const changeCard = h('form', { id: 'change-user', class: 'card', hidden: true });
  function showChange(u) {
    const boxes = ROLES.map((r) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: r, name: 'change-roles', checked: (u.roles || []).includes(r) }), ' ', t('role.' + r)));
    const setRoles = h('button', { type: 'button', id: 'set-roles' }, t('users.set_roles'));
    const pw = h('input', { id: 'reset-password', type: 'password', minlength: 12, maxlength: 1024, autocomplete: 'new-password' });
    const reset = h('button', { type: 'button', id: 'reset-password-button' }, t('users.reset'));
    const path = `/users/${encodeURIComponent(u.username)}`;
    const run = async (fn) => {
      msg.textContent = '';
      try {
        await fn();
        location.reload();
      } catch (e) {
        msg.textContent = explain(e);
      }
    };
    setRoles.addEventListener('click', () => run(() => api('POST', path + '/roles',
      { roles: [...changeCard.querySelectorAll('input[name=change-roles]:checked')].map((x) => x.value) })));
    reset.addEventListener('click', () => run(() => api('POST', path + '/password', { password: pw.value })));
    changeCard.replaceChildren(h('h2', {}, t('users.change_title', { name: u.username })),
      h('p', { class: 'hint' }, t('users.change_hint')),
      h('fieldset', {}, h('legend', {}, t('users.roles')), boxes), setRoles,
      h('label', { for: 'reset-password' }, t('users.new_password')), pw, reset, msg);
    changeCard.hidden = false;
  }
  const rows = users.map((u) => {
    const cells = [h('td', {}, name(u.username)), h('td', { class: 'full-name' }, u.name ? name(u.name) : ''), h('td', {}, u.office), h('td', {}, (u.roles || []).map((r) => t('role.' + r)).join(', ')),
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
      const change = h('button', { type: 'button', class: 'secondary', 'data-change': u.username }, t('users.change'));
      change.addEventListener('click', () => showChange(u));
      cells.push(h('td', {}, b, ' ', change));
    } else cells.push(h('td', {}));
    return h('tr', {}, cells);
  });
  // Refusals show beside what was tried: in the change card when it is
  // open (moved there), else just under the table's buttons.
  app.append(h('h1', {}, t('users.title')),
    h('table', { id: 'users' }, h('thead', {}, h('tr', {}, ['users.name', 'users.full_name', 'users.office', 'users.roles', 'users.state', 'users.created', 'users.action'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, rows)), msg);
  if (!admin) return;
  app.append(changeCard);
  // The pattern attribute is compiled with the v flag: '-' is escaped in
  // the class, or the browser drops the pattern and never checks it.
  const uname = h('input', { id: 'new-username', required: true, maxlength: 32, pattern: '[a-z0-9._\\-]{2,32}',
    'aria-describedby': 'new-username-error', autocomplete: 'off' });
  const full = h('input', { id: 'new-fullname', maxlength: 100, autocomplete: 'off', dir: 'auto',
    'aria-describedby': 'new-fullname-hint new-fullname-error' });
  const pass = h('input', { id: 'new-password', type: 'password', required: true, minlength: 12, maxlength: 1024,
    autocomplete: 'new-password', 'aria-describedby': 'new-password-error' });
  const boxes = ROLES.map((r) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: r, name: 'roles' }), ' ', t('role.' + r)));
  // Each error beside its field, in the user's language.
  const errs = {
    username: h('p', { class: 'field-error', id: 'new-username-error', 'aria-live': 'polite' }),
    password: h('p', { class: 'field-error', id: 'new-password-error', 'aria-live': 'polite' }),
    name: h('p', { class: 'field-error', id: 'new-fullname-error', 'aria-live': 'polite' }),
    roles: h('p', { class: 'field-error', id: 'new-roles-error', 'aria-live': 'polite' }),
    form: h('p', { class: 'error', id: 'add-user-error', role: 'alert' }),
  };
  const form = h('form', { id: 'add-user', class: 'card', novalidate: true }, h('h2', {}, t('users.add')),
    h('p', { class: 'hint' }, t('form.requiredHint')),
    h('label', { for: 'new-username' }, t('users.name'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), uname, errs.username,
    h('label', { for: 'new-fullname' }, t('users.full_name')), full,
    h('p', { class: 'hint', id: 'new-fullname-hint' }, t('users.full_name_hint')), errs.name,
    h('label', { for: 'new-password' }, t('signin.password'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), pass, errs.password,
    h('fieldset', { 'aria-describedby': 'new-roles-error' }, h('legend', {}, t('users.roles')), boxes), errs.roles,
    h('p', { class: 'hint' }, t('users.rules')),
    h('button', { type: 'submit', id: 'create-user' }, t('users.create')), errs.form);
  const fieldOf = (code) => (code.startsWith('password') ? 'password' : code.startsWith('roles') ? 'roles'
    : code === 'name_invalid' ? 'name'
    : code.startsWith('username') || code === 'exists' ? 'username' : 'form');
  const show = (where, text) => {
    errs[where].textContent = text;
    const input = where === 'username' ? uname : where === 'password' ? pass : where === 'name' ? full : null;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const e of Object.values(errs)) e.textContent = '';
    uname.removeAttribute('aria-invalid');
    pass.removeAttribute('aria-invalid');
    full.removeAttribute('aria-invalid');
    if (!uname.checkValidity()) return show('username', t('users.error.username'));
    if (!pass.checkValidity()) return show('password', t('users.error.password_too_short'));
    const fullName = full.value.trim();
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(fullName)) return show('name', t('users.error.name_invalid'));
    const roles = [...form.querySelectorAll('input[name=roles]:checked')].map((b) => b.value);
    try {
      await api('POST', '/users', { username: uname.value, password: pass.value, roles, ...(fullName ? { name: fullName } : {}) });
      location.reload();
    } catch (e) {
      show(fieldOf(e.code || ''), explain(e));
    }
  });
  app.append(form);
}
