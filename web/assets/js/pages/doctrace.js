// civreg UI: the provenance of a document number for the auditor, read as
// a chain: the document → its application → the approval → the person →
// the birth record (each version, with what changed) → the scanned
// register page, every signature and inclusion proof checked.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { chain } from '../chain.js';

export async function render(app) {
  const num = decodeURIComponent(location.pathname.split('/')[3]);
  const d = await api('GET', '/documents/' + encodeURIComponent(num) + '/trace');
  const { verdict, list } = chain(d.trace || null, d);
  app.append(h('h1', {}, t('trace.title'), ' ', h('code', {}, d.document?.number || num)), verdict,
    h('p', { class: 'muted' }, t('chain.utc')), h('p', { class: 'muted', id: 'chain-names' }, t('chain.names')), list);
}
