// civreg UI: the scans a record is keyed from, shown beside the form.
// Uploading a file stores it as evidence (content-addressed, logged) and
// adds its hash to the record's evidence list.
import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export function scanView(hash) {
  const src = '/api/v1/evidence/' + encodeURIComponent(hash);
  return h('figure', { 'data-hash': hash }, h('img', { src, alt: t('record.scan'), loading: 'lazy' }),
    h('figcaption', {}, h('a', { href: src, target: '_blank', rel: 'noopener' }, hash.slice(0, 16) + '…')));
}

// A panel listing HASHES with an upload field; panel.hashes() is the list.
export function evidencePanel(hashes = []) {
  const list = [...hashes];
  const shown = h('div', { id: 'scans' }, list.map(scanView));
  const msg = h('p', { class: 'error', role: 'alert', id: 'scan-error' });
  const file = h('input', { type: 'file', id: 'scan-file', accept: 'image/png,image/jpeg,image/tiff,application/pdf' });
  file.addEventListener('change', async () => {
    msg.textContent = '';
    for (const f of file.files) {
      try {
        const r = await api('POST', '/evidence', f);
        if (!list.includes(r.hash)) {
          list.push(r.hash);
          shown.append(scanView(r.hash));
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
