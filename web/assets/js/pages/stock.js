// civreg UI: blank booklet stock: counts per status, deliveries received,
// spoiled booklets; receive a delivery, record a spoiled booklet.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

const field = (id, text, control) => h('span', { class: 'field-inline' }, h('label', { for: id }, text), ' ', control);

export async function render(app) {
  const r = await api('GET', '/booklets');
  const msg = h('p', { id: 'stock-error', class: 'error', role: 'alert' });
  const f = { doc_type: h('select', { id: 'stock-type' }, h('option', { value: 'TD3' }, 'TD3'), h('option', { value: 'TD1' }, 'TD1')),
              first: h('input', { id: 'stock-first' }), last: h('input', { id: 'stock-last' }),
              reference: h('input', { id: 'stock-reference' }) };
  const serial = h('input', { id: 'spoil-serial' }), reason = h('input', { id: 'spoil-reason', dir: 'auto' });
  const run = (fn) => async (ev) => {
    ev.preventDefault();
    try { await fn(); location.reload(); } catch (e) { msg.textContent = e.message; }
  };
  app.append(h('h1', {}, t('stock.title')),
    h('table', { id: 'stock' }, h('thead', {}, h('tr', {}, ['type', 'blank', 'reserved', 'personalized', 'spoiled', 'total'].map((c) => h('th', {}, t('stock.col.' + c))))),
      h('tbody', {}, Object.entries(r.types || {}).map(([ty, c]) => h('tr', { 'data-type': ty },
        h('td', {}, ty), ['blank', 'reserved', 'personalized', 'spoiled', 'total'].map((k) => h('td', { 'data-k': k }, String(c[k] ?? 0))))))),
    h('h2', {}, t('stock.receive')),
    h('form', { id: 'receive-form', onsubmit: run(() => api('POST', '/booklets', Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.value])))) },
      field('stock-type', t('stock.type'), f.doc_type), ' ', field('stock-first', t('stock.first'), f.first), ' ',
      field('stock-last', t('stock.last'), f.last), ' ', field('stock-reference', t('stock.note'), f.reference), ' ',
      h('button', { type: 'submit' }, t('stock.receiveGo'))),
    h('h2', {}, t('stock.spoil')),
    h('form', { id: 'spoil-form', onsubmit: run(() => api('POST', `/booklets/${encodeURIComponent(serial.value)}/spoil`, { reason: reason.value })) },
      field('spoil-serial', t('stock.serial'), serial), ' ', field('spoil-reason', t('stock.reason'), reason), ' ',
      h('button', { type: 'submit' }, t('stock.record'))), msg,
    h('h2', {}, t('stock.deliveries')), h('ul', {}, (r.batches || []).map((b) => h('li', {},
      t('stock.batch', { type: b.doc_type, first: b.first, last: b.last, count: b.count, blank: b.blank }), ' · ', name(b.reference || ''), ' · ', name(b.received_by || '')))),
    h('h2', {}, t('stock.spoiled')), h('ul', { id: 'spoiled' }, (r.spoiled || []).map((s) => h('li', {}, `${s.serial}: `, name(s.reason || ''), ' (', name(s.by || ''), ')'))));
}
