// civreg UI: imported register volumes.
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

export async function render(app, { session }) {
  const r = await api('GET', '/volumes');
  const rows = r.volumes.map((v) => h('tr', { 'data-volume': v.id },
    h('td', {}, h('a', { href: '/volumes/' + encodeURIComponent(v.id) }, name(v.office))),
    h('td', {}, String(v.year)), h('td', {}, name(v.volume)), h('td', {}, String(v.pages)),
    h('td', {}, String(v.flagged_pages)), h('td', {}, v.created_at || ''),
    h('td', {}, h('a', { href: '/volumes/' + encodeURIComponent(v.id) + '/progress', class: 'progress-link' }, t('volumes.progress')))));
  app.append(h('h1', {}, t('volumes.title')),
    may('scan.import') ? h('p', {}, h('a', { href: '/scans/upload', id: 'to-upload' }, t('upload.title'))) : null,
    rows.length ? h('table', { id: 'volumes' },
      h('thead', {}, h('tr', {}, ['volumes.office', 'volumes.year', 'volumes.volume', 'volumes.pages',
        'volumes.flagged', 'volumes.created', 'volumes.progress'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, rows)) : h('p', { class: 'muted' }, t('volumes.none')));
}
