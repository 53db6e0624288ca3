// civreg UI: the auditor's provenance story. A trace (a record, a UIN or a
// document number) read as a chain of links — document → application →
// approval → person → birth record (each version, with what changed) → the
// scanned register page, shown as an image — each link a plain sentence
// ("Registered by registrar amina on 5 Dec 2026 at 03:42", dates in the
// user's language), with the signature and inclusion-proof marks of every
// signed event. Record views are folded away (<details>) unless opened.
import { h, name } from './dom.js';
import { evidenceUrl } from './evidence.js';
import { currentLang, has, t } from './i18n.js';
import { recordView } from './record-form.js';

// The role in which an event's actor acted (for "by registrar …").
const ROLE_OF = {
  'record.draft': 'clerk', 'record.import': 'clerk', 'record.verify': 'clerk', 'record.mismatch': 'clerk',
  'record.register': 'registrar', 'record.duplicate': 'registrar', 'record.correct': 'registrar',
  'extract.issue': 'registrar', 'death.register': 'registrar', 'scan.import': 'clerk',
  'application.enrol': 'enrolment_officer', 'application.approve': 'approver', 'application.reject': 'approver',
  'application.collect': 'enrolment_officer', 'document.personalize': 'issuance_operator',
  'document.issue': 'issuance_operator', 'document.collect': 'enrolment_officer',
  'booklet.personalize': 'issuance_operator', 'application.qc.pass': 'issuance_operator',
  'application.qc.fail': 'issuance_operator', 'application.personalize': 'issuance_operator',
  'application.issue': 'issuance_operator',
};

// "5 déc. 2026" and "03:42" (UTC: the log's clock, the same for every reader).
export function when(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return { date: iso || '?', time: '' };
  // the register's convention, day before month: "5 Dec 2026", "5 déc. 2026"
  const lang = currentLang() === 'en' ? 'en-GB' : currentLang();
  return {
    date: new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(d),
    time: new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(d),
  };
}

function roleOf(e) {
  let role = ROLE_OF[e.type];
  if (e.type === 'record.correct' && e.data && e.data.by_role) role = e.data.by_role;
  return role;
}

// The accounts' full names ({username: name}, the trace's "account_names":
// the names each account's user.add signed): shown in place of the
// username, which is what the event records (kept in data-actor, after the
// event type, and in the sentence's title).
let accountNames = {};
const display = (user) => (user && Object.hasOwn(accountNames, user) ? accountNames[user] : user);

// The sentence of one event: "Registered by registrar Amina Otieno on … at …"
// (the username when the account has no name).
export function sentence(e) {
  const { date, time } = when(e.time);
  const actor = e.actor || e.signer || '';
  const system = actor.startsWith('office:');
  const role = roleOf(e);
  const who = system ? t('chain.office') : (role ? t('role.' + role).toLowerCase() + ' ' : '') + display(actor);
  const key = has('chain.ev.' + e.type) ? 'chain.ev.' + e.type : 'chain.ev.other';
  return t(key, { who, date, time, type: e.type || '' });
}

function mark(ok, what, testid) {
  const good = ok === true;
  return h('span', { class: 'mark ' + (good ? 'ok' : 'bad'), 'data-check': testid, 'data-ok': String(good) },
    (good ? '✔ ' : '✘ ') + what + ': ' + (good ? t('trace.verified') : t('trace.failed')));
}

function inclusionOk(e) {
  for (const k of ['inclusion_valid', 'inclusion_ok', 'proof_valid']) if (e[k] !== undefined) return e[k];
  const p = e.inclusion_proof || e.inclusion;
  return p && typeof p === 'object' ? (p.valid ?? p.ok) : undefined;
}

// One signed event: its sentence and its marks. COUNT collects failures.
export function eventItem(e, count) {
  const sig = e.signature_valid;
  const incl = inclusionOk(e);
  if (sig !== true) count.failed++;
  if (incl !== undefined && incl !== true) count.failed++;
  count.events++;
  const actor = e.actor || e.signer || '';
  const named = display(actor) !== actor;
  return h('li', { class: 'event', 'data-type': e.type, 'data-seq': String(e.seq ?? '') },
    h('p', { class: 'sentence', 'data-actor': actor, title: named ? t('chain.currentName', { name: accountNames[actor] }) : null }, sentence(e), e.data && e.data.reason ? [' — ', t('chain.reason'), ' ', name(e.data.reason)] : null),
    h('div', { class: 'checks' }, mark(sig, t('trace.signature'), 'signature'),
      incl === undefined ? null : [' ', mark(incl, t('trace.inclusion'), 'inclusion')],
      ' ', h('span', { class: 'muted' }, h('code', {}, e.type), e.seq !== undefined ? ` #${e.seq}` : '',
        actor && !actor.startsWith('office:') ? [' · ', h('code', { class: 'account' }, actor)] : null)));
}

// Leaf paths of an object: {"child.given_names": "Léa", ...}.
function flatten(o, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(o || {})) {
    if (k === 'evidence') continue;
    const p = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, p, out);
    else out[p] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function label(path) {
  const key = 'field.' + path;
  return has(key) ? t(key) : path;
}

// What version V changed from PREV: a list "field: old → new".
function changes(prev, v) {
  const a = flatten(prev), b = flatten(v);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => String(a[k] ?? '') !== String(b[k] ?? ''));
  if (!keys.length) return h('p', { class: 'muted' }, t('chain.noChange'));
  return h('ul', { class: 'changes' }, keys.map((k) => h('li', { 'data-field': k }, h('strong', {}, label(k)), ': ',
    h('del', {}, name(String(a[k] ?? '—'))), ' → ', h('ins', {}, name(String(b[k] ?? '—'))))));
}

function link(id, title, ...body) {
  return h('li', { class: 'chain-link card', id: 'chain-' + id, 'aria-labelledby': 'chain-' + id + '-h' },
    h('h2', { id: 'chain-' + id + '-h' }, title), ...body);
}

function events(list, count, filter) {
  const chosen = (list || []).filter(filter);
  return chosen.length ? h('ol', { class: 'events' }, chosen.map((e) => eventItem(e, count))) : null;
}

const isDocEvent = (e) => /^(document|booklet|chip)\./.test(e.type);
const isApproval = (e) => e.type === 'application.approve' || e.type === 'application.reject';
const isApplication = (e) => e.type && e.type.startsWith('application.') && !isApproval(e);

// The whole chain. TR: the record trace (/api/v1/audit/trace); DOC: the
// document trace (/api/v1/documents/{n}/trace) when tracing a document.
export function chain(tr, doc = null) {
  accountNames = Object.assign({}, tr?.account_names || {}, doc?.account_names || {});
  const count = { events: 0, failed: 0 };
  const links = [];
  const docEvents = doc ? doc.document_events || [] : [];
  const all = tr ? tr.events || [] : [];
  if (doc) {
    const d = doc.document || {};
    links.push(link('document', t('chain.document', { number: d.number || '' }),
      h('p', {}, t('chain.documentIs', { status: d.status && has('doc.status.' + d.status) ? t('doc.status.' + d.status) : d.status || '' })),
      events(docEvents, count, isDocEvent)));
    links.push(link('application', t('chain.application'), events(docEvents, count, isApplication)));
    links.push(link('approval', t('chain.approval'), events(docEvents, count, isApproval) ||
      h('p', { class: 'muted' }, t('chain.none'))));
  }
  if (tr) {
    const p = tr.person;
    const personEvents = all.filter((e) => e.type && e.type.startsWith('person.'));
    links.push(link('person', t('chain.person'), p
      ? h('p', {}, t('chain.personIs', { uin: p.uin, regno: p.registration_number || '' }),
        p.deceased || p.death ? [' ', h('strong', {}, t('chain.deceased'))] : null)
      : h('p', { class: 'muted' }, t('chain.noPerson')),
    personEvents.length ? events(personEvents, count, () => true) : null));
    const rec = tr.record || {};
    const versions = rec.versions_list || rec.versions || [];
    const isKey = (e) => /^(office|user)\./.test(e.type);
    const recordEvents = all.filter((e) => !e.type.startsWith('person.') && e.type !== 'evidence.add' && e.type !== 'scan.import' &&
      !isDocEvent(e) && !e.type.startsWith('application.') && !isKey(e));
    links.push(link('record', t('chain.record', { id: tr.record_id || '' }),
      h('p', {}, t('chain.recordIs', { status: has('status.' + rec.status) ? t('status.' + rec.status) : rec.status || '',
        n: versions.length })),
      events(recordEvents, count, (e) => e.type !== 'record.view'),
      recordEvents.some((e) => e.type === 'record.view')
        ? h('details', { class: 'views-fold' }, h('summary', {}, t('chain.views', { n: recordEvents.filter((e) => e.type === 'record.view').length })),
          events(recordEvents, count, (e) => e.type === 'record.view')) : null,
      h('ol', { class: 'versions' }, versions.map((v, i) => {
        const { date, time } = when(v.keyed_at);
        return h('li', { class: 'version', 'data-version': String(v.version) },
          h('p', {}, h('strong', {}, t('chain.version', { n: v.version })), ' · ',
            i === 0 ? t('chain.versionFirst', { who: display(v.keyed_by), date, time })
              : t('chain.versionNext', { who: display(v.keyed_by), date, time }),
            v.reason ? [' — ', t('chain.reason'), ' ', name(v.reason)] : null),
          i > 0 ? [h('p', { class: 'changed' }, t('chain.changed')), changes(versions[i - 1].record, v.record)] : null,
          h('details', { class: 'record-fold' }, h('summary', {}, t('chain.showRecord', { n: v.version })), recordView(v.record)));
      }))));
    const evidence = tr.evidence || [];
    const scanEvents = all.filter((e) => e.type === 'evidence.add' || e.type === 'scan.import');
    links.push(link('page', t('chain.page'),
      evidence.length ? h('div', { class: 'chain-scans' }, evidence.map((s) => {
        const src = evidenceUrl(tr.record_id, s.hash);
        const { date, time } = when(s.added_at);
        return h('figure', { 'data-hash': s.hash },
          /^image\/(png|jpeg)$/.test(s.media_type || '') ? h('img', { src, alt: t('chain.pageAlt'), loading: 'lazy' }) : null,
          h('figcaption', {}, t('chain.pageAdded', { who: display(s.added_by || ''), date, time }), ' · ',
            h('a', { href: src, target: '_blank', rel: 'noopener' }, h('code', {}, s.hash.slice(0, 16) + '…'))));
      })) : h('p', { class: 'muted' }, t('chain.noPage')),
      events(scanEvents, count, () => true)));
    // The keys that signed the events above: who was given which key, and
    // the office's own key, folded away.
    const keyEvents = all.filter(isKey);
    if (keyEvents.length)
      links.push(link('keys', t('chain.keys'), h('details', { class: 'keys-fold' },
        h('summary', {}, t('chain.keysShow', { n: keyEvents.length })), events(keyEvents, count, () => true))));
  }
  const verdict = h('p', { id: 'trace-summary', class: count.failed ? 'error' : 'ok' },
    count.failed ? t('trace.someFailed', { n: count.failed }) : t('trace.allVerified', { n: count.events }));
  return { verdict, list: h('ol', { class: 'chain', id: 'chain' }, links), count };
}
