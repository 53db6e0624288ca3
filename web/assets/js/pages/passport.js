// civreg UI: the passport office's queues: applications by status (the
// approval queue is ?status=submitted), links to enrolment and stock.
import { api } from '../api.js';
import { h, name } from '../dom.js';

const STATUSES = ['submitted', 'approved', 'personalized', 'qc_failed', 'qc_passed', 'issued',
                  'collected', 'rejected'];

export async function render(app) {
  const params = new URLSearchParams(location.search);
  const status = params.get('status') || '';
  const data = await api('GET', '/applications' + (status ? '?status=' + encodeURIComponent(status) : ''));
  app.append(h('h1', {}, status === 'submitted' ? 'Approval queue' : 'Passport applications'),
    h('p', { class: 'links' }, h('a', { href: '/passport/enrol', id: 'new-application' }, 'New application'),
      ' · ', h('a', { href: '/passport/stock' }, 'Booklet stock'), ' · ',
      h('a', { href: '/passport/documents' }, 'Documents')),
    h('nav', { class: 'filters' }, h('a', { href: '/passport' }, 'all'),
      STATUSES.map((s) => [' · ', h('a', { href: '/passport?status=' + s }, s)])));
  const rows = data.applications || [];
  app.append(h('table', { id: 'applications' },
    h('thead', {}, h('tr', {}, ['Application', 'Holder', 'Type', 'Status', 'Document', 'Enrolled by'].map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map((a) => h('tr', { 'data-id': a.id },
      h('td', {}, h('a', { href: '/passport/applications/' + encodeURIComponent(a.id) }, a.id)),
      h('td', {}, name(`${a.holder?.secondary_identifier || ''} ${a.holder?.primary_identifier || ''}`.trim())),
      h('td', {}, a.doc_type), h('td', { class: 'status' }, a.status),
      h('td', {}, a.document_number || ''), h('td', {}, a.enrolled_by))))));
  if (rows.length === 0) app.append(h('p', { id: 'empty' }, 'No applications.'));
}
