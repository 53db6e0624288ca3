// civreg UI: the keying progress of an imported register volume: for each
// scanned page, the entries keyed from it, how many are verified and how
// many registered; pages with nothing keyed yet are the clerk's "to key".
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

function bar(value, max, label) {
  return h('progress', { value: String(value), max: String(Math.max(max, 1)), 'aria-label': label });
}

export async function render(app) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const r = await api('GET', '/volumes/' + encodeURIComponent(id) + '/progress');
  const clerk = may('record.draft');
  const tot = r.totals;
  const row = (p, pageId) => h('tr', { 'data-page': String(p.page_number ?? p.page), class: p.keyed ? '' : 'to-key' },
    h('th', { scope: 'row' }, t('volume.page', { n: p.page_number ?? p.page })),
    h('td', { class: 'n-keyed' }, String(p.keyed)),
    h('td', { class: 'n-verified' }, String(p.verified), ' ', bar(p.verified, p.keyed, t('progress.verified'))),
    h('td', { class: 'n-registered' }, String(p.registered), ' ', bar(p.registered, p.keyed, t('progress.registered'))),
    h('td', {}, p.keyed ? h('span', { class: 'badge' }, p.registered === p.keyed ? t('progress.done') : t('progress.inProgress'))
      : h('span', { class: 'badge warn' }, t('progress.toKey')),
      clerk && pageId ? [' ', h('a', { href: `/pages/${encodeURIComponent(pageId)}/key`, class: 'key-link' }, t('volume.key'))] : null));
  const head = h('thead', {}, h('tr', {}, ['progress.page', 'progress.keyed', 'progress.verified', 'progress.registered', 'progress.state']
    .map((k) => h('th', { scope: 'col' }, t(k)))));
  app.append(h('h1', {}, t('progress.title'), ' ', name(`${r.office} · ${r.year} · ${r.name}`)),
    h('p', {}, h('a', { href: '/volumes/' + encodeURIComponent(id) }, t('progress.pages')), ' · ',
      h('a', { href: '/volumes' }, t('volumes.title'))),
    h('p', { id: 'progress-totals', class: 'card' },
      t('progress.totals', { pages: tot.pages, keyedPages: tot.pages_keyed, toKey: tot.pages_to_key,
        keyed: tot.keyed, verified: tot.verified, registered: tot.registered })),
    h('table', { id: 'progress' }, h('caption', {}, t('progress.caption')), head,
      h('tbody', {}, r.pages.map((p) => row(p, p.id)))),
    r.other_pages.length ? h('section', { id: 'progress-other-section' }, h('h2', {}, t('progress.other')), h('p', { class: 'hint' }, t('progress.otherHint')),
      h('table', { id: 'progress-other' }, head.cloneNode(true), h('tbody', {}, r.other_pages.map((p) => row(p, null))))) : '');
}
