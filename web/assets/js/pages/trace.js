// civreg UI: the provenance of a record or UIN, read as a chain (person →
// birth record and its versions → the scanned register page), each link in
// plain words with the signature and inclusion-proof marks of its signed
// events, and the bundle download.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { chain } from '../chain.js';

export async function render(app) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const tr = await api('GET', '/audit/trace/' + encodeURIComponent(id));
  const bundle = h('a', { class: 'button', id: 'bundle', href: '/api/v1/audit/bundle/' + encodeURIComponent(id), download: '' }, t('trace.bundle'));
  const { verdict, list } = chain(tr);
  const head = tr.tree_head || tr.head;
  app.append(h('h1', {}, t('trace.title'), ' ', h('code', {}, id)), verdict, h('p', { class: 'muted' }, t('chain.utc')), h('p', { class: 'muted', id: 'chain-names' }, t('chain.names')), bundle,
    head ? h('p', { class: 'muted' }, t('trace.head', { size: head.tree_size ?? '?', root: String(head.root_hash || '').slice(0, 16) })) : null,
    list);
}
