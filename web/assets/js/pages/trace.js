// civreg UI: the provenance trace as a timeline: each event with its
// signer and time, a verified / failed mark for its signature and for its
// inclusion proof in the signed log, and the bundle download.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

function mark(ok, what, testid) {
  const good = ok === true;
  return h('span', { class: 'mark ' + (good ? 'ok' : 'bad'), 'data-check': testid, 'data-ok': String(good) },
    (good ? '✔ ' : '✘ ') + what + ': ' + (good ? t('trace.verified') : t('trace.failed')));
}

function first(obj, keys) {
  for (const k of keys) if (obj && obj[k] !== undefined) return obj[k];
  return undefined;
}

export async function render(app) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const tr = await api('GET', '/audit/trace/' + encodeURIComponent(id));
  const events = tr.events || [];
  const bundle = h('a', { class: 'button', id: 'bundle', href: '/api/v1/audit/bundle/' + encodeURIComponent(id), download: '' }, t('trace.bundle'));
  let failures = 0;
  const items = events.map((e) => {
    const sig = first(e, ['signature_valid', 'signature_ok', 'sig_valid']);
    const incl = first(e, ['inclusion_valid', 'inclusion_ok', 'proof_valid']) ?? first(e.inclusion || {}, ['valid', 'ok']);
    if (sig !== true) failures++;
    if (incl !== true) failures++;
    return h('li', { class: 'event', 'data-type': e.type },
      h('div', { class: 'when' }, e.time || ''),
      h('div', { class: 'what' }, h('strong', {}, e.type), ' · ', t('trace.by'), ' ', name(first(e, ['actor', 'signer']) || '')),
      h('div', { class: 'checks' }, mark(sig, t('trace.signature'), 'signature'), ' ', mark(incl, t('trace.inclusion'), 'inclusion')));
  });
  const summary = h('p', { id: 'trace-summary', class: failures ? 'error' : 'ok' },
    failures ? t('trace.someFailed', { n: failures }) : t('trace.allVerified', { n: events.length }));
  const head = tr.tree_head || tr.head;
  app.append(h('h1', {}, t('trace.title'), ' ', h('code', {}, id)), summary, bundle,
    head ? h('p', { class: 'muted' }, t('trace.head', { size: head.tree_size ?? '?', root: String(head.root_hash || '').slice(0, 16) })) : null,
    h('ol', { class: 'timeline', id: 'timeline' }, items));
}
