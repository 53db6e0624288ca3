// civreg UI: the sign-in screen.
import { api, setCsrf } from '../api.js';
import { h } from '../dom.js';
import { t, currentLang, languages, loadStrings } from '../i18n.js';

// Set when the user picks a language here: then it is sent with the
// sign-in and remembered for them; otherwise their remembered one applies.
let explicitLang;

// The page the user asked for before signing in (?next=/records/...): only
// a path of this site, never another origin ("//host", "/\\host").
export function nextPath() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  return /^\/(?![/\\])/.test(next) ? next : '/';
}

export async function render(app) {
  const msg = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, maxlength: 64, dir: 'auto' });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 1024 });
  const lang = h('select', { id: 'signin-lang', name: 'lang' },
    languages.map((l) => h('option', { value: l.code, selected: l.code === currentLang() }, l.label)));
  const submit = h('button', { type: 'submit', id: 'signin-submit' }, t('signin.submit'));
  const form = h('form', { class: 'card narrow', id: 'signin-form', novalidate: true },
    h('h1', {}, t('signin.title')),
    h('label', { for: 'username' }, t('signin.username')), user,
    h('label', { for: 'password' }, t('signin.password')), pass,
    h('label', { for: 'signin-lang' }, t('nav.language')), lang,
    submit, msg);
  lang.addEventListener('change', async () => {
    explicitLang = lang.value;
    localStorage.setItem('civreg.lang', lang.value);
    await loadStrings(lang.value);
    app.replaceChildren();
    await render(app);
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    if (!user.value || !pass.value) {
      msg.textContent = t('signin.missing');
      return;
    }
    submit.disabled = true;
    try {
      const s = await api('POST', '/session', { username: user.value, password: pass.value, lang: explicitLang });
      setCsrf(s.csrf_token);
      localStorage.setItem('civreg.lang', s.lang);
      location.assign(nextPath());
    } catch (e) {
      pass.value = '';
      if (e.status === 429) msg.textContent = t('signin.throttled', { seconds: e.retryAfter || '?' });
      else if (e.status === 401) msg.textContent = t('signin.wrong');
      else msg.textContent = t('signin.unavailable', { message: e.message });
    } finally {
      submit.disabled = false;
    }
  });
  app.append(form);
  user.focus();
}
