// civreg UI: blank booklet stock: counts per status, deliveries received,
// spoiled booklets; receive a delivery, record a spoiled booklet.
import { api } from '../api.js';
import { h } from '../dom.js';

export async function render(app) {
  const r = await api('GET', '/booklets');
  const msg = h('p', { id: 'stock-error', class: 'error', role: 'alert' });
  const f = { doc_type: h('select', { id: 'stock-type' }, h('option', { value: 'TD3' }, 'TD3'), h('option', { value: 'TD1' }, 'TD1')),
              first: h('input', { id: 'stock-first' }), last: h('input', { id: 'stock-last' }),
              reference: h('input', { id: 'stock-reference' }) };
  const serial = h('input', { id: 'spoil-serial' }), reason = h('input', { id: 'spoil-reason' });
  const run = (fn) => async (ev) => {
    ev.preventDefault();
    try { await fn(); location.reload(); } catch (e) { msg.textContent = e.message; }
  };
  app.append(h('h1', {}, 'Booklet stock'),
    h('table', { id: 'stock' }, h('thead', {}, h('tr', {}, ['Type', 'Blank', 'Reserved', 'Personalized', 'Spoiled', 'Total'].map((c) => h('th', {}, c)))),
      h('tbody', {}, Object.entries(r.types || {}).map(([t, c]) => h('tr', { 'data-type': t },
        h('td', {}, t), ['blank', 'reserved', 'personalized', 'spoiled', 'total'].map((k) => h('td', { 'data-k': k }, String(c[k] ?? 0))))))),
    h('h2', {}, 'Receive a delivery'),
    h('form', { id: 'receive-form', onsubmit: run(() => api('POST', '/booklets', Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.value])))) },
      f.doc_type, ' first ', f.first, ' last ', f.last, ' delivery note ', f.reference, ' ', h('button', { type: 'submit' }, 'Receive')),
    h('h2', {}, 'Spoiled booklet'),
    h('form', { id: 'spoil-form', onsubmit: run(() => api('POST', `/booklets/${encodeURIComponent(serial.value)}/spoil`, { reason: reason.value })) },
      'serial ', serial, ' reason ', reason, ' ', h('button', { type: 'submit' }, 'Record')), msg,
    h('h2', {}, 'Deliveries'), h('ul', {}, (r.batches || []).map((b) => h('li', {}, `${b.doc_type} ${b.first}..${b.last} (${b.count}, ${b.blank} blank) · ${b.reference} · ${b.received_by}`))),
    h('h2', {}, 'Spoiled'), h('ul', { id: 'spoiled' }, (r.spoiled || []).map((s) => h('li', {}, `${s.serial}: ${s.reason} (${s.by})`))));
}
