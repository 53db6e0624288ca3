// civreg UI: a certified extract of a registered birth, printed from the
// browser (clerks and registrars). The preview shows what the extract will
// state; "Issue and print" seals it (a signed extract.issue event) and hands
// the PDF to the browser's viewer to print. A record that already has an
// extract is a reprint: a reason is required, and it is signed with it.
import { api, apiFile, ApiError } from '../api.js';
import { h, handOver, name } from '../dom.js';
import { has, t, tn } from '../i18n.js';

function row(labelKey, value) {
  return value ? [h('dt', {}, t(labelKey)), h('dd', { dir: 'auto' }, value)] : [];
}

export async function render(app) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const path = '/records/' + encodeURIComponent(id);
  const [rec, list] = await Promise.all([api('GET', path), api('GET', path + '/extracts')]);
  const r = rec.record || {};
  const c = r.child || {}, b = r.birth || {}, m = r.mother || {}, f = r.father || {};
  const person = (p) => `${p.given_names || ''} ${p.family_name || ''}`.trim();
  app.append(h('h1', {}, t('extract.title')), h('p', {}, h('a', { href: path }, t('extract.back'))));
  if (rec.status !== 'registered' || rec.closed) {
    app.append(h('p', { class: 'notice', id: 'extract-refused' }, t('extract.notRegistered')));
    return;
  }
  const previous = list.extracts || [];
  const preview = h('section', { class: 'card extract-preview', id: 'extract-preview', 'aria-labelledby': 'extract-preview-h' },
    h('h2', { id: 'extract-preview-h' }, t('extract.preview')),
    h('p', { class: 'extract-heading' }, t('extract.heading')),
    h('dl', {},
      row('record.regno', rec.registration_number),
      row('extract.uin', rec.uin),
      [h('dt', {}, t('extract.child')), h('dd', {}, name(person(c)))],
      row('extract.sex', c.sex ? t('extract.sex.' + c.sex) : ''),
      row('extract.born', [b.date, b.time].filter(Boolean).join(' ')),
      row('extract.place', [b.locality, b.district].filter(Boolean).join(', ')),
      [h('dt', {}, t('extract.mother')), h('dd', {}, name(person(m)))],
      person(f) ? [h('dt', {}, t('extract.father')), h('dd', {}, name(person(f)))] : [],
      row('extract.registered', r.registration_date)),
    h('p', { class: 'hint' }, t('extract.sealNote')));
  const history = h('section', { class: 'card', id: 'extract-history', 'aria-labelledby': 'extract-history-h' },
    h('h2', { id: 'extract-history-h' }, tn('extract.previous', previous.length)),
    previous.length ? h('ol', {}, previous.map((x) => h('li', { 'data-id': x.id },
      h('code', {}, x.id), ' · ', name(x.issued_by), ' · ', x.issued_at,
      x.reason ? [' · ', t('extract.reason.was'), ' ', name(x.reason)] : []))) : null);
  const reprint = previous.length > 0;
  const reason = h('textarea', { id: 'extract-reason', rows: '2', maxlength: '500', dir: 'auto',
    required: reprint, 'aria-describedby': 'extract-reason-error' });
  const reasonErr = h('p', { class: 'field-error', id: 'extract-reason-error', 'aria-live': 'polite' });
  const msg = h('p', { class: 'error', role: 'alert', id: 'extract-error' });
  const done = h('div', { id: 'extract-done', 'aria-live': 'polite' });
  const go = h('button', { type: 'submit', id: 'extract-print' }, reprint ? t('extract.reprint') : t('extract.print'));
  const form = h('form', { class: 'card', id: 'extract-form', novalidate: true },
    reprint ? [h('label', { for: 'extract-reason' }, t('extract.reason'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
      reason, reasonErr] : [],
    go, msg, done);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    reasonErr.textContent = '';
    reason.removeAttribute('aria-invalid');
    if (reprint && reason.value.trim() === '') {
      reasonErr.textContent = t('extract.reason.missing');
      reason.setAttribute('aria-invalid', 'true');
      reason.focus();
      return;
    }
    go.disabled = true;
    try {
      const resp = await apiFile('POST', path + '/extracts', reprint ? { reason: reason.value.trim() } : {});
      await handOver(resp, 'extract.pdf', done, h('p', { class: 'ok', id: 'extract-issued' }, t('extract.issued')),
        { id: 'extract-download', text: t('extract.open') });
    } catch (e) {
      const key = 'extract.error.' + (e.body?.error?.code || '');
      msg.textContent = !(e instanceof ApiError) ? String(e.message || e) : has(key) ? t(key) : e.serverMessage;
    } finally {
      go.disabled = false;
    }
  });
  app.append(h('div', { class: 'split' }, h('div', { class: 'main-col' }, preview), h('aside', { class: 'side-col' }, form, history)));
}
