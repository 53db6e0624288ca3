// civreg UI: entry point. The server names the screen in <body data-page>;
// this module loads the strings for the user's language, draws the header
// and hands the main area to the screen's module.
import { api, setCsrf, setActions, may } from './api.js';
import { h, name, clear } from './dom.js';
import { has, loadStrings, t, currentLang, languages } from './i18n.js';

const screens = {
  signin: () => import('./pages/signin.js'),
  seal: () => import('./pages/seal.js'),
  home: () => import('./pages/home.js'),
  records: () => import('./pages/records.js'),
  draft: () => import('./pages/draft.js'),
  record: () => import('./pages/record.js'),
  verify: () => import('./pages/verify.js'),
  correct: () => import('./pages/correct.js'),
  person: () => import('./pages/person.js'),
  audit: () => import('./pages/audit.js'),
  trace: () => import('./pages/trace.js'),
  users: () => import('./pages/users.js'),
  passport: () => import('./pages/passport.js'),
  enrol: () => import('./pages/enrol.js'),
  application: () => import('./pages/application.js'),
  stock: () => import('./pages/stock.js'),
  document: () => import('./pages/document.js'),
  doctrace: () => import('./pages/doctrace.js'),
  'scan-upload': () => import('./pages/scan-upload.js'),
  volumes: () => import('./pages/volumes.js'),
  volume: () => import('./pages/volume.js'),
  keying: () => import('./pages/keying.js'),
  search: () => import('./pages/search.js'),
  forbidden: () => import('./pages/forbidden.js'),
  extract: () => import('./pages/extract.js'),
  compare: () => import('./pages/compare.js'),
  natdup: () => import('./pages/natdup.js'),
  separators: () => import('./pages/separators.js'),
  progress: () => import('./pages/progress.js'),
};

// Navigation: only the screens the user may open (the action each needs).
const NAV = [
  ['/records', 'nav.records', 'record.read'],
  ['/volumes', 'nav.volumes', 'scan.read'],
  ['/audit', 'nav.audit', 'audit.trace'],
  ['/admin/users', 'nav.users', 'user.list'],
  ['/passport', 'nav.passport', 'application.read'],
];

function chrome(session) {
  const nav = clear(document.getElementById('nav'));
  const who = clear(document.getElementById('who'));
  document.getElementById('foot').textContent = t('app.footer');
  if (!session) return;
  nav.append(h('a', { href: '/' }, t('nav.home')));
  for (const [href, key, action] of NAV)
    if (may(action)) nav.append(h('a', { href }, t(key)));
  // The search box: on every screen of a user who may read records.
  if (may('record.read')) {
    const q = h('input', { type: 'search', name: 'q', id: 'search-q', 'aria-label': t('search.label'),
                           placeholder: t('search.placeholder'), dir: 'auto', maxlength: '1024',
                           value: document.body.dataset.page === 'search' ? new URLSearchParams(location.search).get('q') || '' : '' });
    nav.append(h('form', { role: 'search', action: '/search', method: 'get', class: 'search-box', id: 'search-box' },
      q, h('button', { type: 'submit', id: 'search-go' }, t('search.go'))));
  }
  const select = h('select', { 'aria-label': t('nav.language'), id: 'lang' },
    languages.map((l) => h('option', { value: l.code, selected: l.code === currentLang() }, l.label)));
  select.addEventListener('change', async () => {
    await api('PATCH', '/session', { lang: select.value });
    localStorage.setItem('civreg.lang', select.value);
    location.reload();
  });
  const out = h('button', { type: 'button', id: 'signout', class: 'link' }, t('nav.signout'));
  out.addEventListener('click', async () => {
    try {
      await api('DELETE', '/session');
    } finally {
      location.assign('/signin');
    }
  });
  who.append(name(session.username), ' · ', session.office ? name(session.office) : '', ' ', select, ' ', out);
}

// Where a signed-out visitor was going: kept through the sign-in screen.
export function signinUrl() {
  const here = location.pathname + location.search;
  return here === '/' || here.startsWith('/signin') ? '/signin' : '/signin?next=' + encodeURIComponent(here);
}

async function main() {
  const page = document.body.dataset.page;
  let session = null;
  // The public screens (sign-in, the seal check) never ask for a session.
  if (page !== 'signin' && page !== 'seal') {
    try {
      session = await api('GET', '/session');
      setCsrf(session.csrf_token);
      setActions(session.actions);
    } catch (e) {
      if (e.status === 401) {
        location.assign(signinUrl());
        return;
      } else {
        throw e;
      }
    }
  }
  const lang = session?.lang || localStorage.getItem('civreg.lang') || navigator.language?.slice(0, 2);
  await loadStrings(lang);
  // Each screen has its own title (the screen's name, then civreg).
  const titleKey = 'title.' + page;
  document.title = has(titleKey) ? `${t(titleKey)} · civreg` : t('app.title');
  chrome(session);
  const load = screens[page] || screens.home;
  const mod = await load();
  const app = clear(document.getElementById('app'));
  await mod.render(app, { session });
  app.focus();
}

main().catch((e) => {
  const app = clear(document.getElementById('app'));
  app.append(h('p', { class: 'error', role: 'alert' }, String(e.message || e)));
});
