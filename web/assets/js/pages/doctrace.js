// civreg UI: the provenance of a document number for the auditor: the
// document's own signed events, then the person's trace back to the birth
// record and the scanned register page, every signature checked.
import { api } from '../api.js';
import { h } from '../dom.js';
import { evidenceUrl } from '../evidence.js';

function events(list, id) {
  return h('ol', { id }, (list || []).map((e) => h('li', { 'data-type': e.type },
    h('span', { class: e.signature_valid ? 'mark ok' : 'mark bad' }, e.signature_valid ? 'verified' : 'FAILED'),
    ` ${e.time || ''} ${e.type} by ${e.actor}`)));
}

export async function render(app) {
  const num = decodeURIComponent(location.pathname.split('/')[3]);
  const t = await api('GET', '/documents/' + encodeURIComponent(num) + '/trace');
  const all = [...(t.document_events || []), ...(t.trace?.events || [])];
  const ok = all.every((e) => e.signature_valid);
  app.append(h('h1', {}, 'Trace of ', t.document.number),
    h('p', { id: 'trace-verdict', class: ok ? 'ok' : 'bad' }, ok ? 'all verified' : 'problems found'),
    h('h2', {}, 'Document and application'), events(t.document_events, 'document-events'),
    h('h2', {}, 'Person and birth record'), events(t.trace?.events, 'person-events'),
    h('h2', {}, 'Scanned pages'), h('ul', { id: 'scans' }, (t.trace?.evidence || []).map((s) =>
      h('li', { 'data-hash': s.hash }, h('a', { href: evidenceUrl(t.trace?.record_id, s.hash) }, s.hash),
        ` ${s.media_type || ''} ${s.size ?? ''} bytes`))));
}
