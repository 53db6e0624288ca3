// civreg UI: blind verification. The second clerk keys the record again
// from the register page without seeing the first keying; on mismatch the
// fields that differ are shown side by side and the record stays a draft.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';
import { scanView } from '../evidence.js';
import { errorBox, readRecord, recordForm, recordShape } from '../record-form.js';

function show(v) {
  return v === null || v === undefined ? '—' : String(v);
}

export async function render(app) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const [shape, rec] = await Promise.all([recordShape(), api('GET', '/records/' + encodeURIComponent(id))]);
  const fields = recordForm(shape);
  // Only the scans are shown: the second keying is made from the page,
  // never from the first keying's values.
  const evidence = rec.record?.evidence || [];
  const scans = h('section', { class: 'card', id: 'evidence-panel' }, h('h2', {}, t('record.evidence')),
    evidence.length ? evidence.map((x) => scanView(rec.id || id, x)) : h('p', { class: 'muted' }, t('record.noevidence')));
  const err = errorBox();
  const result = h('div', { id: 'verify-result' });
  const submit = h('button', { type: 'submit', id: 'submit-verify' }, t('verify.submit'));
  const form = h('form', { id: 'verify-form', class: 'card' }, fields, submit, err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    result.replaceChildren();
    submit.disabled = true;
    try {
      await api('POST', `/records/${encodeURIComponent(id)}/verify`, { record: readRecord(fields, evidence) });
      result.append(h('p', { class: 'ok', id: 'verified' }, t('verify.ok')),
        h('a', { href: '/records/' + encodeURIComponent(id) }, t('verify.open')));
      form.remove();
    } catch (e) {
      if (e.status === 409 && e.body?.mismatches) {
        result.append(h('h2', {}, t('verify.mismatch')),
          h('table', { id: 'mismatches' },
            h('thead', {}, h('tr', {}, h('th', {}, t('verify.field')), h('th', {}, t('verify.first')), h('th', {}, t('verify.yours')))),
            h('tbody', {}, e.body.mismatches.map((m) => h('tr', { 'data-field': m.field },
              h('td', {}, m.field), h('td', {}, name(show(m.draft))), h('td', {}, name(show(m.verify))))))));
      } else {
        err.textContent = e.message;
      }
    } finally {
      submit.disabled = false;
    }
  });
  app.append(h('h1', {}, t('verify.title'), ' ', h('code', {}, id)), h('p', {}, t('verify.help')), result,
    h('div', { class: 'split' }, h('div', { class: 'main-col' }, form), h('aside', { class: 'side-col' }, scans)));
}
