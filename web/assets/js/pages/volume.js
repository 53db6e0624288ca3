// civreg UI: the pages of a volume, with their quality flags; clerks open
// a page to key records from it.
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

export async function render(app, { session }) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const r = await api('GET', '/volumes/' + encodeURIComponent(id) + '/pages');
  const clerk = may('record.draft');
  const grid = h('div', { class: 'pages-grid', id: 'pages' });
  for (const p of r.pages) {
    const pid = encodeURIComponent(p.id);
    const flags = p.quality_flags || [];
    grid.append(h('figure', { class: 'card page-thumb', 'data-page': p.id, 'data-number': p.page_number ?? '' },
      h('img', { src: `/api/v1/pages/${pid}/preview`, alt: t('keying.page'), loading: 'lazy' }),
      h('figcaption', {},
        p.separator ? h('strong', {}, t('volume.separator')) : h('span', {}, t('volume.page', { n: p.page_number })),
        ' ', name(p.file_name || ''),
        flags.length ? h('span', { class: 'flags error' }, ' ', flags.join(', ')) : null,
        clerk && !p.separator ? h('a', { href: `/pages/${pid}/key`, class: 'key-link' }, t('volume.key')) : null)));
  }
  app.append(h('h1', {}, t('volume.title'), ' ', name(id)),
    h('p', {}, h('a', { href: '/volumes' }, t('volumes.title')), ' · ',
      h('a', { href: '/volumes/' + encodeURIComponent(id) + '/progress', id: 'to-progress' }, t('volumes.progress'))), grid);
}
