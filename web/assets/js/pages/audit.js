// civreg UI: the auditor's entry point: trace a record, registration
// number or UIN.
import { h } from '../dom.js';
import { t } from '../i18n.js';

export async function render(app) {
  const id = h('input', { id: 'trace-id', name: 'id', required: true, maxlength: 120, size: 40 });
  const form = h('form', { id: 'trace-form', class: 'card narrow' },
    h('label', { for: 'trace-id' }, t('audit.id')), id, h('button', { type: 'submit' }, t('audit.trace')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (id.value.trim()) location.assign('/audit/' + encodeURIComponent(id.value.trim()));
  });
  app.append(h('h1', {}, t('audit.title')), form);
}
