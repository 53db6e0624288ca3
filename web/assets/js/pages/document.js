// civreg UI: a document number: its status, a status change (lost,
// stolen, revoked, cancelled, expired with a reason), its trace, and the
// alert-list export. Without a number: a search box and the exports.
import { api } from '../api.js';
import { h } from '../dom.js';

export async function render(app) {
  const num = decodeURIComponent(location.pathname.split('/')[3] || '');
  app.append(h('h1', {}, 'Documents'),
    h('p', {}, 'Lost, stolen and revoked numbers for alert lists: ',
      h('a', { id: 'alerts-csv', href: '/api/v1/documents/alerts?format=csv', download: '' }, 'CSV'), ' · ',
      h('a', { id: 'alerts-json', href: '/api/v1/documents/alerts?format=json', download: '' }, 'JSON')));
  const q = h('input', { id: 'doc-number', value: num });
  app.append(h('form', { onsubmit: (ev) => { ev.preventDefault(); location.assign('/passport/documents/' + encodeURIComponent(q.value.trim())); } },
    'Document number ', q, ' ', h('button', { type: 'submit' }, 'Show')));
  if (!num) return;
  const d = await api('GET', '/documents/' + encodeURIComponent(num));
  const msg = h('p', { id: 'status-error', class: 'error', role: 'alert' });
  const status = h('select', { id: 'new-status' }, ['lost', 'stolen', 'revoked', 'cancelled', 'expired'].map((s) => h('option', { value: s }, s)));
  const reason = h('input', { id: 'status-reason' });
  app.append(h('section', { class: 'card' }, h('h2', {}, d.number),
    h('p', {}, 'Status: ', h('strong', { id: 'doc-status' }, d.status), d.status_reason ? ` (${d.status_reason})` : ''),
    h('p', {}, `${d.doc_type} · issued ${d.date_of_issue || '-'} · expires ${d.date_of_expiry || '-'} · booklet ${d.booklet_serial || '-'}`),
    h('p', {}, h('a', { href: '/passport/applications/' + encodeURIComponent(d.application_id) }, 'Application'), ' · ',
      h('a', { id: 'trace-link', href: '/passport/documents/' + encodeURIComponent(d.number) + '/trace' }, 'Trace'))),
  h('form', { id: 'status-form', onsubmit: async (ev) => {
    ev.preventDefault();
    try { await api('POST', `/documents/${encodeURIComponent(num)}/status`, { status: status.value, reason: reason.value }); location.reload(); }
    catch (e) { msg.textContent = e.message; }
  } }, 'Mark as ', status, ' because ', reason, ' ', h('button', { type: 'submit' }, 'Record')), msg);
}
