// civreg UI: public verification of a certified extract's seal (no sign-in).
// An uploaded scan or photo, or the pasted seal text, is sent to
// /api/v1/seal/verify; every value shown is set as text, never as HTML.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

const FIELDS = [
  ['gn', 'seal.gn'], ['fn', 'seal.fn'], ['sx', 'seal.sx'], ['dob', 'seal.dob'], ['pob', 'seal.pob'],
  ['mo', 'seal.mo'], ['fa', 'seal.fa'], ['rd', 'seal.rd'], ['rn', 'seal.rn'], ['uin', 'seal.uin'],
  ['dod', 'seal.dod'], ['of', 'seal.of'], ['doi', 'seal.doi'], ['xid', 'seal.xid'],
];

// Pictures refused before their seal is looked at (web/api_seal.c).
const PICTURE_ERRORS = ['picture_too_large', 'picture_too_costly', 'picture_unreadable'];

function showResult(out, r) {
  out.replaceChildren();
  if (!r.valid) {
    out.append(h('p', { class: 'error', role: 'alert', id: 'seal-invalid' }, t('seal.invalid')),
      h('p', { id: 'seal-reason' }, r.error || ''));
    return;
  }
  const msg = r.data?.msg || {};
  const rows = FIELDS.filter(([k]) => typeof msg[k] === 'string')
    .map(([k, label]) => h('tr', {}, h('th', { scope: 'row' }, t(label)), h('td', { dir: 'auto' }, msg[k])));
  out.append(h('p', { class: 'ok', role: 'status', id: 'seal-valid' }, t('seal.valid')),
    h('table', { id: 'seal-data' }, h('tbody', {}, ...rows)),
    h('p', { class: 'muted', id: 'seal-signer' }, t('seal.signer', { subject: r.signer?.subject || '?' })));
}

export async function render(app) {
  const out = h('div', { id: 'seal-result', 'aria-live': 'polite' });
  const file = h('input', { id: 'seal-file', type: 'file', accept: 'image/png,image/jpeg,image/tiff' });
  const text = h('textarea', { id: 'seal-text', rows: 4, maxlength: 8192, spellcheck: 'false' });
  const submit = h('button', { type: 'submit', id: 'seal-submit' }, t('seal.check'));
  const form = h('form', { class: 'card', id: 'seal-form', novalidate: true },
    h('h1', {}, t('seal.title')),
    h('p', {}, t('seal.intro')),
    h('label', { for: 'seal-file' }, t('seal.file')), file,
    h('label', { for: 'seal-text' }, t('seal.text')), text,
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    const body = file.files[0] || (text.value.trim() && new Blob([text.value.trim()], { type: 'text/plain' }));
    if (!body) {
      out.append(h('p', { class: 'error', role: 'alert' }, t('seal.missing')));
      return;
    }
    submit.disabled = true;
    try {
      showResult(out, await api('POST', '/seal/verify', body));
    } catch (e) {
      const m = e.status === 429 ? t('seal.throttled', { seconds: e.retryAfter || '?' })
        : e.code === 'busy' ? t('seal.busy', { seconds: e.retryAfter || '?' })
        : PICTURE_ERRORS.includes(e.code) ? t('seal.' + e.code) : e.message;
      out.append(h('p', { class: 'error', role: 'alert' }, m));
    } finally {
      submit.disabled = false;
    }
  });
  app.append(form, out);
}
