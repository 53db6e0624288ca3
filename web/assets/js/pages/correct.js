// civreg UI: correct a record, with a reason (a new signed version).
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { evidencePanel } from '../evidence.js';
import { errorBox, recordBody, recordForm, recordShape, submitRecord } from '../record-form.js';

export async function render(app) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const [shape, current] = await Promise.all([recordShape(), api('GET', '/records/' + encodeURIComponent(id))]);
  const fields = recordForm(shape, current.record);
  const scans = evidencePanel(current.record?.evidence || [], current.id || id);
  const reason = h('textarea', { id: 'reason', name: 'reason', required: true, maxlength: 2000, dir: 'auto', rows: 3 });
  const err = errorBox();
  const submit = h('button', { type: 'submit', id: 'save-correction' }, t('correct.save'));
  const form = h('form', { id: 'correct-form', class: 'card' }, fields,
    h('label', { for: 'reason' }, t('correct.reason')), reason, submit, err);
  const check = () => {
    if (reason.value.trim()) return true;
    err.textContent = t('correct.needreason');
    return false;
  };
  submitRecord(form, fields, err, submit, async () => {
    await api('POST', `/records/${encodeURIComponent(id)}/corrections`,
      recordBody(fields, scans.hashes(), { reason: reason.value }));
    location.assign('/records/' + encodeURIComponent(id));
  }, { check });
  app.append(h('h1', {}, t('correct.title'), ' ', h('code', {}, id)),
    h('div', { class: 'split' }, h('div', { class: 'main-col' }, form), h('aside', { class: 'side-col' }, scans.el)));
}
