// civreg UI: the cross-district duplicate cases of this office — the same
// birth registered here and in another office, as the national tier found
// it. Both records side by side; a registrar decides "same birth" or "two
// births" with a reason: a signed national.duplicate event in this office's
// log, pushed to the national tier (POST, CSRF token as always).
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';
import { decisionForm } from '../decide.js';

// The rows compared, each a label key and how to read it from a side.
const place = (s) => [s.facility, s.locality, s.district].filter(Boolean).join(', ');
const ROWS = [
  ['natdup.office', (s) => s.office],
  ['natdup.record', (s) => s.record],
  ['natdup.regno', (s) => s.registration_number],
  ['natdup.uin', (s) => s.uin],
  ['natdup.given', (s) => s.given_names],
  ['natdup.family', (s) => s.family_name],
  ['natdup.sex', (s) => (s.sex ? t('natdup.sex.' + s.sex) : '')],
  ['natdup.born', (s) => s.birth_date],
  ['natdup.place', place],
  ['natdup.mother', (s) => s.mother],
  ['natdup.father', (s) => s.father],
];

// The case's two records, this office's first.
function sides(c, office) {
  const a = { ...(c.a || {}), office: c.office_a, record: c.record_a };
  const b = { ...(c.b || {}), office: c.office_b, record: c.record_b };
  return c.office_a === office ? [a, b] : [b, a];
}

function table(c, office) {
  const [mine, theirs] = sides(c, office);
  const cell = (v) => h('td', {}, v ? name(String(v)) : h('span', { class: 'muted' }, '—'));
  return h('table', { class: 'compare', id: 'case-' + c.id + '-records' },
    h('thead', {}, h('tr', {}, h('th', {}, t('dup.field')),
      h('th', { scope: 'col' }, t('natdup.here', { office: mine.office })),
      h('th', { scope: 'col' }, t('natdup.there', { office: theirs.office })))),
    h('tbody', {}, ROWS.map(([key, get]) => {
      const va = get(mine) || '', vb = get(theirs) || '';
      const differs = String(va) !== String(vb) && !['natdup.office', 'natdup.record', 'natdup.regno', 'natdup.uin'].includes(key);
      return h('tr', { class: differs ? 'differs' : null, 'data-row': key.slice(7) },
        h('th', { scope: 'row' }, t(key)), cell(va), cell(vb));
    })));
}

function resolveForm(c, done) {
  const f = decisionForm({ reason: 'reason-' + c.id, error: 'error-' + c.id },
    [{ id: 'same-' + c.id, label: t('natdup.same'), decision: 'same' },
      { id: 'distinct-' + c.id, label: t('natdup.distinct'), decision: 'distinct', secondary: true }],
    async (decision, reason) => done(await api('POST', '/national/duplicates/' + c.id, { decision, reason })),
    '2000');
  return h('div', { class: 'resolve' }, h('label', { for: 'reason-' + c.id }, t('dup.reason')), f.reason,
    h('div', { class: 'actions' }, f.buttons[0], ' ', f.buttons[1]), f.msg);
}

function caseCard(c, office, reload) {
  const status = h('span', { class: 'badge ' + c.status, id: 'case-' + c.id + '-status', 'data-status': c.status },
    t('natdup.status.' + c.status));
  const decided = (c.resolutions || []).map((r) => t('natdup.decidedBy', { office: r.office, seq: r.seq }));
  return h('section', { class: 'card natdup', id: 'case-' + c.id, 'data-case': String(c.id), 'data-status': c.status,
    'aria-labelledby': 'case-' + c.id + '-h' },
    h('h2', { id: 'case-' + c.id + '-h' }, t('natdup.case', { id: c.id }), ' ', status),
    h('p', { class: 'facts' }, t('natdup.opened', { when: (c.opened_at || '').slice(0, 10) }),
      decided.length ? [' · ', decided.join(' · ')] : null),
    table(c, office),
    c.status === 'open' && may('duplicate.resolve') ? resolveForm(c, reload) : null);
}

export async function render(app, { session }) {
  app.append(h('h1', {}, t('natdup.title')), h('p', { class: 'muted' }, t('natdup.intro')));
  const note = h('p', { id: 'natdup-note', role: 'status' });
  app.append(note);
  const list = h('div', { id: 'natdup-cases' });
  app.append(list);
  const load = async (done) => {
    list.replaceChildren();
    let r;
    try {
      r = await api('GET', '/national/duplicates');
    } catch (e) {
      list.append(h('p', { class: 'error', role: 'alert', id: 'natdup-error', 'data-code': e.code || '' }, e.message));
      return;
    }
    const office = r.office || session.office;
    const open = r.cases.filter((c) => c.status === 'open');
    const closed = r.cases.filter((c) => c.status !== 'open');
    const reload = (res) => load(res);
    if (done) note.textContent = t(done.pushed ? 'natdup.done' : 'natdup.done.later', { id: done.case, seq: done.event });
    list.append(h('h2', { id: 'natdup-open-h' }, t('natdup.open', { n: open.length })));
    if (!open.length) list.append(h('p', { id: 'natdup-none' }, t('natdup.none')));
    for (const c of open) list.append(caseCard(c, office, reload));
    if (closed.length) {
      list.append(h('details', { id: 'natdup-closed' }, h('summary', {}, t('natdup.closed', { n: closed.length })),
        closed.map((c) => caseCard(c, office, reload))));
    }
  };
  await load(null);
}
