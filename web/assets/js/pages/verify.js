// civreg UI: blind verification. The second clerk keys the record again
// from the register page alone: this screen asks the server only for what a
// blind keyer may know (GET /records/{id}/blind: the scans, and after a
// disagreement the names of the fields that differ), never for the first
// keying. On a disagreement those fields are emptied and marked, and the
// clerk re-keys them from the page; a second disagreement sends the record
// back to the clerk who keyed it, with the fields named.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { scanView } from '../evidence.js';
import { errorBox, label, recordBody, recordForm, recordShape, submitRecord } from '../record-form.js';

function fieldLabel(path) {
  return path.includes('.') ? `${label(path.split('.')[0])} · ${label(path)}` : label(path);
}

function fieldList(fields) {
  return h('ul', { class: 'field-list' }, fields.map((f) => h('li', { 'data-field': f }, fieldLabel(f))));
}

export async function render(app) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const path = '/records/' + encodeURIComponent(id);
  const [shape, blind] = await Promise.all([recordShape(), api('GET', path + '/blind')]);
  app.append(h('h1', {}, t('verify.title'), ' ', h('code', {}, id)));
  if (blind.status !== 'draft') {
    app.append(h('p', { class: 'notice', id: 'verify-closed' }, t('verify.notdraft', { status: t('status.' + blind.status) })),
      h('a', { href: path }, t('verify.open')));
    return;
  }
  if (blind.keyed_by_me) {
    app.append(h('p', { class: 'notice', id: 'verify-own' }, t('verify.own')),
      h('a', { href: '/' }, t('nav.home')));
    return;
  }
  if (blind.sent_back) {
    app.append(h('p', { class: 'notice', id: 'verify-sent-back' }, t('verify.sentback')), fieldList(blind.fields || []));
    return;
  }
  const fields = recordForm(shape);
  const evidence = blind.evidence || [];
  const scans = h('section', { class: 'card', id: 'evidence-panel' }, h('h2', {}, t('record.evidence')),
    evidence.length ? evidence.map((x) => scanView(blind.id || id, x)) : h('p', { class: 'muted' }, t('record.noevidence')));
  const err = errorBox();
  const result = h('div', { id: 'verify-result', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', id: 'submit-verify' }, t('verify.submit'));
  const form = h('form', { id: 'verify-form', class: 'card' }, fields, submit, err);
  // Mark the fields to key again from the page: emptied, never the other value.
  const mark = (names) => {
    for (const el of fields.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    let first = null;
    for (const f of names) {
      const el = fields.querySelector(`[name="${CSS.escape(f)}"]`);
      if (!el) continue;
      el.setAttribute('aria-invalid', 'true');
      if (el.type === 'checkbox') el.checked = false;
      else el.value = '';
      first = first || el;
    }
    first?.focus();
  };
  const differs = (names) => h('div', { id: 'mismatch-box', class: 'card warn' },
    h('h2', {}, t('verify.mismatch')), h('p', {}, t('verify.rekey')),
    h('table', { id: 'mismatches' },
      h('thead', {}, h('tr', {}, h('th', {}, t('verify.field')))),
      h('tbody', {}, names.map((f) => h('tr', { 'data-field': f }, h('td', {}, fieldLabel(f)))))));
  if ((blind.fields || []).length) result.append(differs(blind.fields));
  // A second keying that disagrees: the fields to key again, or the draft
  // sent back to its first keyer.
  const mismatch = (e) => {
    if (e.status !== 409 || !e.body?.mismatches) return false;
    const names = e.body.mismatches.map((m) => m.field);
    if (e.body.sent_back) {
      result.replaceChildren(h('p', { class: 'notice', id: 'verify-sent-back' }, t('verify.sentback')), fieldList(names));
      form.remove();
    } else {
      result.replaceChildren(differs(names));
      mark(names);
    }
    return true;
  };
  submitRecord(form, fields, err, submit, async () => {
    await api('POST', `${path}/verify`, recordBody(fields, evidence));
    result.replaceChildren(h('p', { class: 'ok', id: 'verified' }, t('verify.ok')),
      h('a', { href: path }, t('verify.open')));
    form.remove();
  }, { onError: mismatch });
  app.append(h('p', {}, t('verify.help')), result,
    h('div', { class: 'split' }, h('div', { class: 'main-col' }, form), h('aside', { class: 'side-col' }, scans)));
}
