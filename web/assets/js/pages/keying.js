// civreg UI: keying from a page (clerk). The page image (zoom, pan,
// rotate) beside the birth-record draft form; the register reference
// (office, year, volume, page) comes from the page and the page's file
// hash is the draft's evidence, so the draft is linked to its page; the
// clerk keys the entry number and the record.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';
import { pageViewer } from '../page-viewer.js';
import { errorBox, recordBody, recordForm, recordShape, submitRecord } from '../record-form.js';

export async function render(app) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const pid = encodeURIComponent(id);
  const [shape, page] = await Promise.all([recordShape(), api('GET', '/pages/' + pid)]);
  const reg = page.register || {};
  const fields = recordForm(shape, { register: reg });
  // Office, year and volume are the volume's. The page number is the
  // register's own (the number printed on the sheet): the scan's position
  // in the volume is only a suggestion the clerk checks and corrects.
  for (const k of ['office', 'year', 'volume']) {
    const el = fields.querySelector(`[name="register.${k}"]`);
    if (el && reg[k] !== undefined && reg[k] !== null) el.readOnly = true;
  }
  const pageField = fields.querySelector('[name="register.page"]');
  if (pageField) {
    pageField.readOnly = false;
    pageField.setAttribute('aria-describedby', 'register-page-hint');
    pageField.closest('.field')?.append(h('p', { class: 'hint', id: 'register-page-hint' },
      t('keying.pageHint', { n: reg.page ?? page.page_number ?? '?' })));
  }
  const evidence = page.evidence || [page.file_hash];
  const err = errorBox();
  const submit = h('button', { type: 'submit', id: 'save-draft' }, t('draft.save'));
  const form = h('form', { id: 'draft-form', class: 'card' },
    h('p', { id: 'page-link' }, t('keying.linked'), ' ', h('code', {}, page.file_hash.slice(0, 16) + '…')),
    fields, submit, err);
  submitRecord(form, fields, err, submit, async () => {
    const r = await api('POST', '/records', recordBody(fields, evidence));
    location.assign('/records/' + encodeURIComponent(r.id));
  });
  const back = page.volume_id ? h('a', { href: '/volumes/' + encodeURIComponent(page.volume_id) }, t('keying.back')) : null;
  app.append(h('h1', {}, t('keying.title'), ' ', name((page.volume_id || '').split('|').join(' · ')), ' · ',
    t('volume.page', { n: page.page_number ?? '?' })), h('p', {}, t('keying.help'), ' ', back),
    h('div', { class: 'split keying' },
      h('div', { class: 'main-col' }, pageViewer(`/api/v1/pages/${pid}/preview`, `/api/v1/pages/${pid}/image`)),
      h('aside', { class: 'side-col' }, form)));
}
