// civreg UI: one record with its versions and evidence beside it, and the
// actions the user's roles allow in its state.
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { has, t } from '../i18n.js';
import { scanView } from '../evidence.js';
import { recordView } from '../record-form.js';

// A candidate pair's score (0-1000) as words.
function likeness(score) {
  return score >= 950 ? 'high' : score >= 850 ? 'medium' : 'low';
}

export async function render(app, { session }) {
  const id = decodeURIComponent(location.pathname.split('/')[2]);
  const version = new URLSearchParams(location.search).get('version');
  const path = '/records/' + encodeURIComponent(id);
  const [rec, hist] = await Promise.all([
    api('GET', path + (version ? '?version=' + encodeURIComponent(version) : '')),
    api('GET', path + '/history'),
  ]);
  const c = rec.record?.child || {};
  document.title = `${t('title.record')} ${rec.id} · civreg`;
  const title = h('h1', {}, name(`${c.given_names || ''} ${c.family_name || ''}`.trim() || rec.id));
  const facts = h('p', { class: 'facts' },
    h('span', { class: 'badge ' + rec.status, id: 'record-status' }, t('status.' + rec.status)), ' ',
    h('code', {}, rec.id), ' · ', t('record.version', { n: rec.version, of: rec.versions }),
    rec.registration_number ? [' · ', t('record.regno'), ' ', h('strong', { id: 'regno' }, rec.registration_number)] : [],
    rec.uin ? [' · UIN ', may('person.read')
      ? h('a', { href: '/persons/' + encodeURIComponent(rec.uin), id: 'uin' }, rec.uin) : h('span', { id: 'uin' }, rec.uin)] : []);

  const actions = h('div', { class: 'actions', id: 'actions' });
  const msg = h('p', { class: 'error', role: 'alert', id: 'action-error' });
  // Blind double entry: the clerk who keyed a version never verifies it;
  // any other clerk sees the draft's scans only (the server withholds its
  // values) and is offered the blind second keying.
  const keyedByMe = (hist.versions_list || []).some((v) => v.keyed_by === session.username);
  const closed = rec.closed || null;
  const notices = [];
  if (closed) {
    // closed: the state the record is in, not the status it was left at
    const badge = facts.querySelector('#record-status');
    badge.className = 'badge closed';
    badge.dataset.closed = closed.state;
    badge.textContent = t('record.closed.' + closed.state);
    notices.push(h('p', { class: 'notice', id: 'closed-note' }, t('record.closed.note', {
      into: closed.into || '', by: closed.by || '', at: closed.at || '', reason: closed.reason || '' }), ' ',
      h('a', { href: '/records/' + encodeURIComponent(closed.into || '') }, t('record.closed.open'))));
  }
  if (rec.status === 'draft' && keyedByMe && may('record.verify'))
    notices.push(h('p', { class: 'notice', id: 'own-draft' }, t('record.ownDraft')));
  if (rec.blind)
    notices.push(h('p', { class: 'notice', id: 'blind-note' }, t('record.blind')));
  if (may('record.verify') && rec.status === 'draft' && !keyedByMe && !closed)
    actions.append(h('a', { class: 'button', href: path + '/verify', id: 'go-verify' }, t('record.verify')));
  if (may('record.register') && rec.status === 'verified' && !closed) {
    const b = h('button', { type: 'button', id: 'register' }, t('record.register'));
    b.addEventListener('click', async () => {
      b.disabled = true;
      msg.textContent = '';
      try {
        await api('POST', path + '/register');
        location.reload();
      } catch (e) {
        msg.textContent = e.message;
        b.disabled = false;
      }
    });
    actions.append(b);
  }
  if (!closed && !rec.blind && may('record.correct') && (rec.status !== 'registered' || may('record.register')))
    actions.append(h('a', { class: 'button secondary', href: path + '/correct', id: 'go-correct' }, t('record.correct')));
  if (rec.status === 'registered' && !closed && may('extract.issue'))
    actions.append(h('a', { class: 'button secondary', href: path + '/extract', id: 'go-extract' }, t('record.extract')));
  if (may('audit.trace'))
    actions.append(h('a', { class: 'button secondary', href: '/audit/' + encodeURIComponent(rec.id), id: 'go-trace' }, t('record.trace')));

  const versions = h('ol', { id: 'versions' }, (hist.versions_list || []).map((v) => h('li', {},
    h('a', { href: path + '?version=' + v.version }, t('record.version', { n: v.version, of: hist.versions })),
    ' · ', name(v.keyed_by || ''), ' · ', v.keyed_at || '',
    v.reason ? h('div', { class: 'reason' }, t('record.reason'), ' ', name(v.reason)) : null)));
  const evidence = h('div', { id: 'evidence' });
  const hashes = rec.record?.evidence || [];
  if (hashes.length === 0) evidence.append(h('p', { class: 'muted' }, t('record.noevidence')));
  for (const hash of hashes) evidence.append(scanView(rec.id, hash));
  const events = h('ol', { id: 'events', class: 'events' }, (hist.events || []).map((e) =>
    h('li', { 'data-type': e.type }, h('strong', {}, has('event.' + e.type) ? t('event.' + e.type) : e.type), ' · ', name(e.actor || ''), ' · ', e.time || '')));

  // Possible duplicates of this record, each opening the side-by-side screen.
  let dupCard = null;
  if (may('record.duplicates')) {
    const d = await api('GET', path + '/duplicates').catch(() => ({ candidates: [] }));
    const cands = d.candidates || [];
    if (cands.length) {
      dupCard = h('section', { class: 'card', id: 'duplicates' }, h('h2', {}, t('dup.title')),
        h('ul', {}, cands.map((c) => {
          const o = c.record_id === rec.id ? c.other_id : c.record_id;
          return h('li', { 'data-other': o, 'data-status': c.status },
            h('code', {}, o), ' · ', t('dup.likeness.' + likeness(c.score)), ' · ',
            h('span', { class: 'badge ' + c.status }, t('dup.status.' + c.status)), ' ',
            h('a', { class: 'button secondary compare-link', href: path + '/duplicates/' + encodeURIComponent(o) }, t('dup.compare')));
        })));
    }
  }

  app.append(title, facts, ...notices, actions, msg, dupCard || '',
    h('div', { class: 'split' },
      h('div', { class: 'main-col' }, rec.blind ? '' : recordView(rec.record)),
      h('aside', { class: 'side-col' },
        h('section', { class: 'card' }, h('h2', {}, t('record.evidence')), evidence),
        h('section', { class: 'card' }, h('h2', {}, t('record.versions')), versions),
        h('section', { class: 'card' }, h('h2', {}, t('record.events')), events))));
}
