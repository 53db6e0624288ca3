// civreg UI: upload a batch of scans (clerk). A batch is started, each file
// is sent in its own request with a progress bar (upload progress from
// XMLHttpRequest), then the batch is imported on the server in the order the
// files were chosen: separator sheets start new volumes. The summary lists
// the import's pages, volumes and per-file errors.
import { api, csrfToken, errorText } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

function send(batch, file, bar) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', `/api/v1/scan-batches/${batch}/files`);
    x.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    x.setRequestHeader('X-File-Name', encodeURIComponent(file.name));
    x.setRequestHeader('X-CSRF-Token', csrfToken());
    x.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) bar.value = e.loaded / e.total;
    });
    x.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(x.responseText);
      } catch {
        body = null;
      }
      if (x.status >= 200 && x.status < 300) resolve(body);
      else reject(new Error(errorText(body?.error?.code, body?.error?.message || x.statusText)));
    });
    x.addEventListener('error', () => reject(new Error(t('upload.network'))));
    x.send(file);
  });
}

export async function render(app) {
  const input = h('input', { type: 'file', id: 'upload-files', multiple: true,
    accept: 'image/png,image/jpeg,image/tiff,image/x-portable-anymap,.pnm,.pgm,.pbm,.ppm,.tif,.tiff' });
  const list = h('ol', { id: 'upload-list', class: 'upload-list' });
  const summary = h('div', { id: 'upload-summary', role: 'status' });
  const err = h('p', { class: 'error', role: 'alert', id: 'upload-error' });
  const go = h('button', { type: 'submit', id: 'upload-start' }, t('upload.start'));
  const form = h('form', { class: 'card', id: 'upload-form' },
    h('label', { for: 'upload-files' }, t('upload.choose')), input, go, err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    summary.replaceChildren();
    list.replaceChildren();
    const files = [...input.files];
    if (files.length === 0) {
      err.textContent = t('upload.none');
      return;
    }
    go.disabled = true;
    try {
      const batch = await api('POST', '/scan-batches', {});
      let sent = 0;
      let refused = 0;
      for (const f of files) {
        const bar = h('progress', { max: 1, value: 0 });
        const state = h('span', { class: 'upload-state' }, t('upload.sending'));
        list.append(h('li', { 'data-file': f.name }, h('bdi', { dir: 'auto' }, f.name), ' ', bar, ' ', state));
        try {
          await send(batch.id, f, bar);
          bar.value = 1;
          state.textContent = t('upload.sent');
          sent++;
        } catch (e) {
          bar.remove();
          state.textContent = e.message;
          state.classList.add('error');
          refused++;
        }
      }
      if (sent === 0) throw new Error(t('upload.nothing'));
      summary.append(h('p', {}, t('upload.importing')));
      let r;
      try {
        r = await api('POST', `/scan-batches/${batch.id}/import`, {});
      } catch (e) {
        r = e.body;
        if (!r || r.files_total === undefined) throw e;
      }
      summary.replaceChildren(...[
        h('p', { id: 'import-result' }, t('upload.summary', {
          pages: r.pages_added, separators: r.separators, flagged: r.flagged_pages,
          volumes: r.volumes, skipped: r.pages_skipped, failed: r.files_failed + refused })),
        (r.errors || []).length ? h('ul', { class: 'error', id: 'import-errors' },
          r.errors.map((e) => h('li', {}, h('bdi', { dir: 'auto' }, e.file), ': ', e.error))) : null,
        h('a', { href: '/volumes', id: 'to-volumes' }, t('upload.toVolumes'))].filter(Boolean));
    } catch (e) {
      err.textContent = e.message;
    } finally {
      go.disabled = false;
    }
  });
  app.append(h('h1', {}, t('upload.title')), h('p', {}, t('upload.help')), form, list, summary);
}
