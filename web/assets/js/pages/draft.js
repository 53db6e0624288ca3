// civreg UI: key a new record as a draft (clerk).
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { evidencePanel } from '../evidence.js';
import { errorBox, recordBody, recordForm, recordShape, submitRecord } from '../record-form.js';

export async function render(app) {
  const shape = await recordShape();
  const fields = recordForm(shape);
  const scans = evidencePanel();
  const err = errorBox();
  const submit = h('button', { type: 'submit', id: 'save-draft' }, t('draft.save'));
  const form = h('form', { id: 'draft-form', class: 'card' }, fields, submit, err);
  submitRecord(form, fields, err, submit, async () => {
    const r = await api('POST', '/records', recordBody(fields, scans.hashes()));
    location.assign('/records/' + encodeURIComponent(r.id));
  });
  app.append(h('h1', {}, t('draft.title')), h('p', {}, t('draft.help')),
    h('div', { class: 'split' }, h('div', { class: 'main-col' }, form), h('aside', { class: 'side-col' }, scans.el)));
}
