// civreg UI: one application and the next step for the signed-in user's
// roles: approve or reject (approver; never the enrolling officer),
// personalize and download the data page and chip package, quality
// control, issue and hand over (issuance operator).
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { currentLang, has, t } from '../i18n.js';

export async function render(app, { session }) {
  const id = decodeURIComponent(location.pathname.split('/')[3]);
  const a = await api('GET', '/applications/' + encodeURIComponent(id));
  const msg = h('p', { id: 'action-error', class: 'error', role: 'alert' });
  const reason = h('input', { id: 'reason', placeholder: t('application.reason'), 'aria-label': t('application.reason'), dir: 'auto' });
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
  app.append(h('h1', {}, t('application.title'), ' ', h('span', { id: 'app-id' }, a.id)),
    h('p', {}, t('application.statusLabel'), ' ', h('strong', { id: 'app-status', 'data-status': a.status }, t('application.status.' + a.status)),
      ' · ', a.doc_type, ' · ', t('enrol.kind.' + a.kind), a.replaces ? [' · ', t('application.replaces', { n: a.replaces })] : ''),
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', {}, t('application.holder')),
        h('img', { src: `/api/v1/applications/${encodeURIComponent(id)}/photo`, alt: t('application.photo'), width: '140', id: 'photo' }),
        h('p', {}, name(`${H.secondary_identifier || ''} ${H.primary_identifier || ''}`.trim())),
        h('p', {}, t('application.born', { date: H.date_of_birth || '' }), ' ', name(H.place_of_birth || ''), ' · ',
          t('application.sex'), ' ', H.sex || ''),
        h('p', {}, t('enrol.uin'), ' ', h('a', { href: '/persons/' + encodeURIComponent(a.uin) }, a.uin))),
      h('section', { class: 'card' }, h('h2', {}, t('application.checks')),
        h('ul', { id: 'checks' }, (a.checks || []).map((c) => h('li', { 'data-check': c.check },
          h('span', { class: c.passed ? 'mark ok' : 'mark bad' }, c.passed ? t('application.passed') : t('application.failed')), ' ',
          has('check.' + c.check) ? t('check.' + c.check) : c.check,
          // the server's detail is English: shown in English, or as data when a check failed
          c.detail && (currentLang() === 'en' || !c.passed) ? [': ', h('span', { dir: 'auto' }, c.detail)] : ''))))),
    h('p', {}, t('application.enrolledBy'), ' ', name(a.enrolled_by), a.decided_by ? [' · ', t('application.decidedBy'), ' ', name(a.decided_by)] : '',
      a.decision_reason ? [' (', name(a.decision_reason), ')'] : ''),
    a.document_number ? h('p', {}, t('passport.col.document'), ' ', h('a', { id: 'document-number', href: '/passport/documents/' + encodeURIComponent(a.document_number) }, a.document_number),
      ' · ', t('application.booklet'), ' ', h('span', { id: 'booklet' }, a.booklet_serial || '')) : '',
    a.mrz ? h('pre', { id: 'mrz', class: 'mrz' }, a.mrz) : '');
  const actions = h('div', { id: 'actions' });
  if (may('application.approve') && a.status === 'submitted') {
    actions.append(h('button', { id: 'approve', onclick: act('approve') }, t('application.approve')), ' ', reason, ' ',
      h('button', { id: 'reject', onclick: act('reject', () => ({ reason: reason.value })) }, t('application.reject')));
  }
  if (may('application.produce')) {
    if (a.status === 'approved' || a.status === 'qc_failed')
      actions.append(h('button', { id: 'personalize', onclick: act('personalize') }, t('application.personalize')));
    if (a.status === 'personalized')
      actions.append(h('button', { id: 'qc-pass', onclick: act('qc', () => ({ pass: true })) }, t('application.qcPass')), ' ',
        reason, ' ', h('button', { id: 'qc-fail', onclick: act('qc', () => ({ pass: false, reason: reason.value })) }, t('application.qcFail')));
    if (a.status === 'qc_passed') actions.append(h('button', { id: 'issue', onclick: act('issue') }, t('application.issue')));
    if (a.status === 'issued') actions.append(h('button', { id: 'collect', onclick: act('collect') }, t('application.collect')));
  }
  if (a.datapage_hash) {
    actions.append(h('p', {}, h('a', { id: 'download-pdf', href: `/api/v1/applications/${encodeURIComponent(id)}/datapage.pdf`, download: '' }, t('application.datapage')),
      a.chip_hash ? [' · ', h('a', { id: 'download-chip', href: `/api/v1/applications/${encodeURIComponent(id)}/chip.json`, download: '' }, t('application.chip'))] : [' · ', t('application.nochip')]));
  }
  app.append(actions, msg);
}
