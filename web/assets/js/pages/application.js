// civreg UI: one application and the next step for the signed-in user's
// roles: approve or reject (approver; never the enrolling officer),
// personalize and download the data page and chip package, quality
// control, issue and hand over (issuance operator).
import { api, may } from '../api.js';
import { t } from '../i18n.js';
import { h, name } from '../dom.js';

export async function render(app, { session }) {
  const id = decodeURIComponent(location.pathname.split('/')[3]);
  const a = await api('GET', '/applications/' + encodeURIComponent(id));
  const msg = h('p', { id: 'action-error', class: 'error', role: 'alert' });
  const reason = h('input', { id: 'reason', placeholder: 'reason' });
  const act = (action, body) => async () => {
    msg.textContent = '';
    try {
      await api('POST', `/applications/${encodeURIComponent(id)}/${action}`, body ? body() : undefined);
      location.reload();
    } catch (e) {
      msg.textContent = e.code === 'deceased' ? t('passport.error.deceased') : e.message;
    }
  };
  const H = a.holder || {};
  app.append(h('h1', {}, 'Application ', h('span', { id: 'app-id' }, a.id)),
    h('p', {}, 'Status: ', h('strong', { id: 'app-status' }, a.status), ' · ', a.doc_type, ' · ', a.kind,
      a.replaces ? [' of ', a.replaces] : ''),
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', {}, 'Holder'),
        h('img', { src: `/api/v1/applications/${encodeURIComponent(id)}/photo`, alt: 'photo', width: '140', id: 'photo' }),
        h('p', {}, name(`${H.secondary_identifier || ''} ${H.primary_identifier || ''}`.trim())),
        h('p', {}, `born ${H.date_of_birth || ''} in `, name(H.place_of_birth || ''), ` · sex ${H.sex || ''}`),
        h('p', {}, 'UIN ', h('a', { href: '/persons/' + encodeURIComponent(a.uin) }, a.uin))),
      h('section', { class: 'card' }, h('h2', {}, 'Evidence checks'),
        h('ul', { id: 'checks' }, (a.checks || []).map((c) => h('li', { 'data-check': c.check },
          h('span', { class: c.passed ? 'mark ok' : 'mark bad' }, c.passed ? 'passed' : 'failed'), ' ',
          c.check, ': ', c.detail || ''))))),
    h('p', {}, 'Enrolled by ', a.enrolled_by, a.decided_by ? ` · decided by ${a.decided_by}` : '',
      a.decision_reason ? ` (${a.decision_reason})` : ''),
    a.document_number ? h('p', {}, 'Document ', h('a', { id: 'document-number', href: '/passport/documents/' + encodeURIComponent(a.document_number) }, a.document_number),
      ' · booklet ', h('span', { id: 'booklet' }, a.booklet_serial || '')) : '',
    a.mrz ? h('pre', { id: 'mrz', class: 'mrz' }, a.mrz) : '');
  const actions = h('div', { id: 'actions' });
  if (may('application.approve') && a.status === 'submitted') {
    actions.append(h('button', { id: 'approve', onclick: act('approve') }, 'Approve'), ' ', reason, ' ',
      h('button', { id: 'reject', onclick: act('reject', () => ({ reason: reason.value })) }, 'Reject'));
  }
  if (may('application.produce')) {
    if (a.status === 'approved' || a.status === 'qc_failed')
      actions.append(h('button', { id: 'personalize', onclick: act('personalize') }, 'Personalize'));
    if (a.status === 'personalized')
      actions.append(h('button', { id: 'qc-pass', onclick: act('qc', () => ({ pass: true })) }, 'Quality check passed'), ' ',
        reason, ' ', h('button', { id: 'qc-fail', onclick: act('qc', () => ({ pass: false, reason: reason.value })) }, 'Failed (spoil booklet)'));
    if (a.status === 'qc_passed') actions.append(h('button', { id: 'issue', onclick: act('issue') }, 'Issue'));
    if (a.status === 'issued') actions.append(h('button', { id: 'collect', onclick: act('collect') }, 'Handed to the holder'));
  }
  if (a.datapage_hash) {
    actions.append(h('p', {}, h('a', { id: 'download-pdf', href: `/api/v1/applications/${encodeURIComponent(id)}/datapage.pdf`, download: '' }, 'Data page (PDF)'),
      a.chip_hash ? [' · ', h('a', { id: 'download-chip', href: `/api/v1/applications/${encodeURIComponent(id)}/chip.json`, download: '' }, 'Chip package')] : ' · no chip package (no document signer)'));
  }
  app.append(actions, msg);
}
