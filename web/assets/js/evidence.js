// civreg UI: the scans a record is keyed from, shown beside the form.
// Uploading a file stores it as evidence (content-addressed, logged) and
// adds its hash to the record's evidence list. A stored scan is fetched
// only through the record that lists it (the store has no route of its
// own); a file just uploaded is previewed from the browser's own copy.
import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export function evidenceUrl(recordId, hash) {
  return '/api/v1/records/' + encodeURIComponent(recordId) + '/evidence/' + encodeURIComponent(hash);
}

function figure(hash, src, link) {
  return h('figure', { 'data-hash': hash }, src ? h('img', { src, alt: t('record.scan'), loading: 'lazy' }) : null,
    h('figcaption', {}, link ? h('a', { href: link, target: '_blank', rel: 'noopener' }, hash.slice(0, 16) + '…')
      : hash.slice(0, 16) + '…'));
}

// The scan HASH of the record RECORDID.
export function scanView(recordId, hash) {
  const src = evidenceUrl(recordId, hash);
  return figure(hash, src, src);
}

// A file uploaded in this page, not yet part of a saved record: shown from
// the file the user picked (a data: URL, which the page's CSP allows).
function localView(hash, file) {
  const fig = figure(hash, null, null);
  if (file.type === 'image/png' || file.type === 'image/jpeg') {
    const reader = new FileReader();
    reader.addEventListener('load', () => {
      fig.prepend(h('img', { src: reader.result, alt: t('record.scan') }));
    });
    reader.readAsDataURL(file);
  }
  return fig;
}

// A panel listing HASHES (of the record RECORDID, null for a new record)
// with an upload field; panel.hashes() is the list.
export function evidencePanel(hashes = [], recordId = null) {
  const list = [...hashes];
  const shown = h('div', { id: 'scans' }, list.map((x) => scanView(recordId, x)));
  const msg = h('p', { class: 'error', role: 'alert', id: 'scan-error' });
  const file = h('input', { type: 'file', id: 'scan-file', accept: 'image/png,image/jpeg,image/tiff,application/pdf' });
  file.addEventListener('change', async () => {
    msg.textContent = '';
    for (const f of file.files) {
      try {
        const r = await api('POST', '/evidence', f);
        if (!list.includes(r.hash)) {
          list.push(r.hash);
          shown.append(localView(r.hash, f));
        }
      } catch (e) {
        msg.textContent = e.message;
      }
    }
    file.value = '';
  });
  const el = h('section', { class: 'card', id: 'evidence-panel' }, h('h2', {}, t('record.evidence')),
    h('label', { for: 'scan-file' }, t('evidence.add')), file, msg, shown);
  return { el, hashes: () => [...list] };
}
