// civreg UI: two possibly duplicate records side by side, each with its
// scans, fields that differ highlighted. A registrar resolves the pair as the
// same birth or as two births, with a reason (POST, CSRF token as always).
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';
import { decisionForm } from '../decide.js';
import { scanView } from '../evidence.js';
import { label } from '../record-form.js';

function flatten(rec) {
  const out = new Map();
  for (const [k, v] of Object.entries(rec || {})) {
    if (k === 'evidence') continue;
    if (v && typeof v === 'object' && !Array.isArray(v))
      for (const [k2, v2] of Object.entries(v)) out.set(`${k}.${k2}`, v2);
    else out.set(k, v);
  }
  return out;
}

function show(v) {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function scans(rec) {
  const hashes = rec.record?.evidence || [];
  return h('div', { class: 'evidence' }, hashes.length ? hashes.map((x) => scanView(rec.id, x))
    : h('p', { class: 'muted' }, t('record.noevidence')));
}

export async function render(app, { session }) {
  const parts = location.pathname.split('/');
  const id = decodeURIComponent(parts[2]);
  const other = decodeURIComponent(parts[4]);
  const enc = encodeURIComponent;
  const [a, b, dups] = await Promise.all([
    api('GET', '/records/' + enc(id)),
    api('GET', '/records/' + enc(other)),
    api('GET', '/records/' + enc(id) + '/duplicates'),
  ]);
  const pair = (dups.candidates || []).find((c) =>
    (c.record_id === id && c.other_id === other) || (c.record_id === other && c.other_id === id));
  app.append(h('h1', {}, t('dup.compare.title')));
  if (!pair) {
    app.append(h('p', { class: 'error', role: 'alert', id: 'compare-error' }, t('dup.notpair')));
    return;
  }
  app.append(h('p', { class: 'facts' },
    h('span', { class: 'badge ' + pair.status, id: 'pair-status', 'data-status': pair.status }, t('dup.status.' + pair.status)),
    ' · ', t('dup.likeness.' + (pair.score >= 950 ? 'high' : pair.score >= 850 ? 'medium' : 'low')), ' · ', t('dup.differs')));

  const fa = flatten(a.record), fb = flatten(b.record);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])];
  const head = (rec) => h('th', {}, h('a', { href: '/records/' + enc(rec.id) }, h('code', {}, rec.id)), ' ',
    h('span', { class: 'badge ' + rec.status }, t('status.' + rec.status)));
  const table = h('table', { id: 'compare', class: 'compare' },
    h('thead', {}, h('tr', {}, h('th', {}, t('dup.field')), head(a), head(b))),
    h('tbody', {}, keys.map((k) => {
      const va = show(fa.get(k)), vb = show(fb.get(k));
      const differs = va !== vb;
      return h('tr', { 'data-field': k, class: differs ? 'differs' : null, 'data-differs': String(differs) },
        h('th', { scope: 'row' }, k.includes('.') ? `${label(k.split('.')[0])} · ${label(k)}` : label(k)), h('td', {}, name(va)), h('td', {}, name(vb)));
    })),
    h('tfoot', {}, h('tr', {}, h('th', {}, t('record.evidence')),
      h('td', { id: 'scans-a' }, scans(a)), h('td', { id: 'scans-b' }, scans(b)))));
  app.append(table);

  if (pair.status !== 'open') {
    app.append(h('p', { id: 'pair-resolved' }, t('dup.resolved', {
      d: t('dup.status.' + pair.status), by: pair.resolved_by || '', reason: pair.reason || '' })));
    return;
  }
  if (!may('duplicate.resolve')) return;
  const f = decisionForm({ reason: 'dup-reason', error: 'dup-error' },
    [{ id: 'dup-same', label: t('dup.same'), decision: 'duplicate' },
      { id: 'dup-distinct', label: t('dup.distinct'), decision: 'distinct', secondary: true }],
    async (decision, reason) => {
      await api('POST', '/records/' + enc(id) + '/duplicates/' + enc(other), { decision, reason });
      location.reload();
    });
  app.append(h('section', { class: 'card', id: 'dup-resolve' },
    h('label', { for: 'dup-reason' }, t('dup.reason')), f.reason, h('div', { class: 'actions' }, f.buttons[0], ' ', f.buttons[1]), f.msg));
}
