// civreg UI: a document number: its status, a status change (lost,
// stolen, revoked, cancelled, expired with a reason), its trace, and the
// alert-list export. Without a number: a search box and the exports.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

export async function render(app) {
  const num = decodeURIComponent(location.pathname.split('/')[3] || '');
  app.append(h('h1', {}, t('doc.title')),
    h('p', {}, t('doc.alerts'), ' ',
      h('a', { id: 'alerts-csv', href: '/api/v1/documents/alerts?format=csv', download: '' }, 'CSV'), ' · ',
      h('a', { id: 'alerts-json', href: '/api/v1/documents/alerts?format=json', download: '' }, 'JSON')));
  const q = h('input', { id: 'doc-number', value: num });
  app.append(h('form', { role: 'search', onsubmit: (ev) => { ev.preventDefault(); location.assign('/passport/documents/' + encodeURIComponent(q.value.trim())); } },
    h('label', { for: 'doc-number' }, t('doc.number')), ' ', q, ' ', h('button', { type: 'submit' }, t('doc.show'))));
  if (!num) return;
  const d = await api('GET', '/documents/' + encodeURIComponent(num));
  const msg = h('p', { id: 'status-error', class: 'error', role: 'alert' });
  const status = h('select', { id: 'new-status' }, ['lost', 'stolen', 'revoked', 'cancelled', 'expired'].map((s) => h('option', { value: s }, t('doc.status.' + s))));
  const reason = h('input', { id: 'status-reason', dir: 'auto' });
  app.append(h('section', { class: 'card' }, h('h2', {}, d.number),
    h('p', {}, t('application.statusLabel'), ' ', h('strong', { id: 'doc-status', 'data-status': d.status }, t('doc.status.' + d.status)),
      d.status_reason ? [' (', name(d.status_reason), ')'] : ''),
    h('p', {}, t('doc.facts', { type: d.doc_type, issued: d.date_of_issue || '-', expires: d.date_of_expiry || '-', booklet: d.booklet_serial || '-' })),
    h('p', {}, h('a', { href: '/passport/applications/' + encodeURIComponent(d.application_id) }, t('application.title')), ' · ',
      h('a', { id: 'trace-link', href: '/passport/documents/' + encodeURIComponent(d.number) + '/trace' }, t('doc.trace')))),
  h('form', { id: 'status-form', onsubmit: async (ev) => {
    ev.preventDefault();
    try { await api('POST', `/documents/${encodeURIComponent(num)}/status`, { status: status.value, reason: reason.value }); location.reload(); }
    catch (e) { msg.textContent = e.message; }
  } }, h('label', { for: 'new-status' }, t('doc.markAs')), ' ', status, ' ', h('label', { for: 'status-reason' }, t('doc.because')), ' ', reason, ' ',
  h('button', { type: 'submit' }, t('stock.record'))), msg);
}
