// civreg UI: volume separator sheets printed from the browser (clerks and
// registrars). The clerk chooses the office, year, first volume and how
// many consecutive volumes; the preview draws each sheet as it will print
// (its fields and the Code 128 bars the scanner reads back); "Print" hands
// the PDF (one A4 page per volume) to the browser to print.
import { api, apiFile, ApiError } from '../api.js';
import { h, handOver } from '../dom.js';
import { has, t, tn } from '../i18n.js';

const SVG = 'http://www.w3.org/2000/svg';

// The bars of a sheet as an SVG picture (modules: bar, space, bar, ...).
function bars(widths, payload) {
  const total = widths.reduce((a, b) => a + b, 0);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${total + 20} 60`);
  svg.setAttribute('class', 'sep-bars');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('sep.barcode', { payload }));
  let x = 10;
  widths.forEach((w, i) => {
    if (i % 2 === 0) {
      const r = document.createElementNS(SVG, 'rect');
      for (const [k, v] of Object.entries({ x, y: 0, width: w, height: 60 })) r.setAttribute(k, String(v));
      svg.append(r);
    }
    x += w;
  });
  return svg;
}

function sheet(s) {
  return h('figure', { class: 'card sep-sheet', 'data-payload': s.payload },
    h('p', { class: 'sep-title' }, t('sep.sheetTitle')),
    h('dl', {}, h('dt', {}, t('volumes.office')), h('dd', {}, s.office),
      h('dt', {}, t('volumes.year')), h('dd', {}, String(s.year)),
      h('dt', {}, t('volumes.volume')), h('dd', {}, s.volume)),
    bars(s.bars, s.payload), h('figcaption', {}, h('code', {}, s.payload)),
    h('p', { class: 'sep-foot' }, t('sep.foot')));
}

function message(e) {
  const key = 'sep.error.' + (e.code || '');
  return has(key) ? t(key) : e.message || String(e);
}

export async function render(app, { session }) {
  // the form's defaults: the user's office, this year
  const d = await api('GET', '/separators').catch(() => ({}));
  const field = (id, label, attrs) => h('div', { class: 'field' }, h('label', { for: id }, t(label)), h('input', { id, ...attrs }));
  const form = h('form', { class: 'card', id: 'sep-form', novalidate: true },
    field('sep-office', 'volumes.office', { maxlength: '8', value: d.office || session.office || '', required: true }),
    field('sep-year', 'volumes.year', { type: 'number', min: '1000', max: '9999', required: true, value: String(d.year || new Date().getUTCFullYear()) }),
    field('sep-volume', 'sep.volume', { maxlength: '12', required: true }),
    field('sep-count', 'sep.count', { type: 'number', min: '1', max: '50', value: '1', required: true }),
    h('p', { class: 'hint' }, t('sep.countHint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'sep-preview' }, t('sep.preview')),
      h('button', { type: 'button', id: 'sep-print', class: 'secondary', disabled: true }, t('sep.print'))),
    h('p', { class: 'error', role: 'alert', id: 'sep-error' }));
  const shown = h('section', { id: 'sep-sheets', 'aria-live': 'polite', 'aria-label': t('sep.previewTitle') });
  const done = h('div', { id: 'sep-done', 'aria-live': 'polite' });
  const msg = form.querySelector('#sep-error');
  const print = form.querySelector('#sep-print');
  const val = (id) => form.querySelector('#' + id).value.trim();
  let chosen = null;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    done.replaceChildren();
    print.disabled = true;
    chosen = { office: val('sep-office'), year: Number(val('sep-year')), volume: val('sep-volume'), count: Number(val('sep-count') || 1) };
    if (!chosen.volume) {
      msg.textContent = t('sep.error.volume');
      form.querySelector('#sep-volume').focus();
      return;
    }
    try {
      const q = new URLSearchParams({ office: chosen.office, year: String(chosen.year), volume: chosen.volume, count: String(chosen.count) });
      const r = await api('GET', '/separators?' + q);
      shown.replaceChildren(h('h2', {}, tn('sep.sheets', r.sheets.length)), h('div', { class: 'sep-grid' }, r.sheets.map(sheet)));
      print.disabled = false;
    } catch (e) {
      shown.replaceChildren();
      msg.textContent = message(e);
    }
  });
  print.addEventListener('click', async () => {
    msg.textContent = '';
    print.disabled = true;
    try {
      const resp = await apiFile('POST', '/separators', chosen);
      await handOver(resp, 'separator.pdf', done, h('p', { class: 'ok', id: 'sep-printed' }, t('sep.printed')),
        { id: 'sep-download', text: t('sep.open') });
    } catch (e) {
      msg.textContent = !(e instanceof ApiError) ? String(e.message || e)
        : message({ code: e.body?.error?.code, message: e.serverMessage });
    } finally {
      print.disabled = false;
    }
  });
  app.append(h('h1', {}, t('sep.title')), h('p', {}, t('sep.help')),
    h('div', { class: 'split' }, h('div', { class: 'main-col' }, shown), h('aside', { class: 'side-col' }, form, done)));
}
