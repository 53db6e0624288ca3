// civreg UI: the passport office's queues: applications by status (the
// approval queue is ?status=submitted), links to enrolment and stock.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

const STATUSES = ['submitted', 'approved', 'personalized', 'qc_failed', 'qc_passed', 'issued',
                  'collected', 'rejected'];

export async function render(app) {
  const params = new URLSearchParams(location.search);
  const status = params.get('status') || '';
  const data = await api('GET', '/applications' + (status ? '?status=' + encodeURIComponent(status) : ''));
  app.append(h('h1', {}, status === 'submitted' ? t('passport.approvalQueue') : t('passport.title')),
    h('p', { class: 'links' }, h('a', { href: '/passport/enrol', id: 'new-application' }, t('passport.new')),
      ' · ', h('a', { href: '/passport/stock' }, t('passport.stock')), ' · ',
      h('a', { href: '/passport/documents' }, t('passport.documents'))),
    h('nav', { class: 'filters', 'aria-label': t('passport.filter') }, h('a', { href: '/passport' }, t('passport.all')),
      STATUSES.map((s) => [' · ', h('a', { href: '/passport?status=' + s }, t('application.status.' + s))])));
  const rows = data.applications || [];
  app.append(h('table', { id: 'applications' },
    h('thead', {}, h('tr', {}, ['application', 'holder', 'type', 'status', 'document', 'enrolledBy'].map((c) => h('th', {}, t('passport.col.' + c))))),
    h('tbody', {}, rows.map((a) => h('tr', { 'data-id': a.id },
      h('td', {}, h('a', { href: '/passport/applications/' + encodeURIComponent(a.id) }, a.id)),
      h('td', {}, name(`${a.holder?.secondary_identifier || ''} ${a.holder?.primary_identifier || ''}`.trim())),
      h('td', {}, a.doc_type), h('td', { class: 'status', 'data-status': a.status }, t('application.status.' + a.status)),
      h('td', {}, a.document_number || ''), h('td', {}, name(a.enrolled_by)))))));
  if (rows.length === 0) app.append(h('p', { id: 'empty' }, t('passport.empty')));
}
