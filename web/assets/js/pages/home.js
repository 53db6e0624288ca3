// civreg UI: the home page: one panel per role the user holds, each with
// that role's work queues and their counts (mine and the office's), then
// the screens that role works in.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t, tn } from '../i18n.js';

const LINKS = {
  clerk: [['/records/new', 'home.newRecord'], ['/scans/upload', 'home.upload'], ['/volumes', 'home.volumes'],
    ['/separators', 'home.separators']],
  registrar: [['/records?status=verified', 'home.toRegister'], ['/records?status=registered', 'home.registered'],
    ['/national/duplicates', 'home.natdup'],
    ['/separators', 'home.separators']],
  enrolment_officer: [['/passport/enrol', 'home.enrol'], ['/passport', 'home.applications'],
    ['/records?status=registered', 'home.registered']],
  approver: [['/passport?status=submitted', 'home.approvals'], ['/records?status=registered', 'home.registered']],
  issuance_operator: [['/passport?status=approved', 'home.personalize'], ['/passport/stock', 'home.stock'],
    ['/passport/documents', 'home.documents']],
  auditor: [['/audit', 'home.trace'], ['/records', 'home.allRecords'], ['/admin/users', 'home.users']],
  admin: [['/admin/users', 'home.users'], ['/audit', 'home.trace']],
};

const RECORD_ROLES = ['clerk', 'registrar', 'enrolment_officer', 'approver', 'auditor'];
const PASSPORT_ROLES = ['enrolment_officer', 'approver', 'issuance_operator', 'auditor'];

// One queue: its name, its count, where it opens; ITEMS (optional) the
// first entries.
function queue(id, label, count, href, items = []) {
  return h('li', { class: 'queue', id: 'queue-' + id, 'data-count': String(count) },
    h('a', { href }, h('span', { class: 'count' + (count ? '' : ' zero') }, String(count)), ' ', label),
    items.length ? h('ul', { class: 'queue-items' }, items) : null);
}

function recordItem(r, href, extra) {
  return h('li', { 'data-id': r.id }, h('a', { href }, h('code', {}, r.id)), ' · ',
    t('home.keyedBy', { who: '' }), name(r.keyed_by || ''), extra || '');
}

async function passportCounts(session) {
  if (!session.roles.some((r) => PASSPORT_ROLES.includes(r))) return null;
  const statuses = ['submitted', 'approved', 'personalized', 'qc_passed'];
  const out = {};
  await Promise.all(statuses.map(async (s) => {
    const d = await api('GET', '/applications?status=' + s + '&limit=500').catch(() => null);
    const rows = d?.applications || [];
    out[s] = { office: rows.length, mine: rows.filter((a) => a.enrolled_by === session.username).length };
  }));
  return out;
}

export async function render(app, { session }) {
  app.append(h('h1', {}, t('home.welcome', { name: '' }), name(session.username)));
  if (session.office) app.append(h('p', {}, t('home.office'), ' ', name(session.office)));
  const [q, pp] = await Promise.all([
    session.roles.some((r) => RECORD_ROLES.includes(r)) ? api('GET', '/queues').catch(() => null) : null,
    passportCounts(session),
  ]);
  const grid = h('div', { class: 'grid', id: 'roles' });
  for (const role of session.roles) {
    const queues = [];
    if (role === 'clerk' && q) {
      queues.push(
        queue('to-verify', t('home.q.toVerify'), q.to_verify.count, '#queue-to-verify',
          q.to_verify.records.slice(0, 5).map((r) => recordItem(r, `/records/${encodeURIComponent(r.id)}/verify`))),
        queue('sent-back', t('home.q.sentBack'), q.sent_back.count, '#queue-sent-back',
          q.sent_back.records.slice(0, 5).map((r) => recordItem(r, `/records/${encodeURIComponent(r.id)}/correct`,
            [' · ', t('home.q.fields'), ' ', (r.fields || []).join(', ')]))),
        queue('my-drafts', t('home.q.myDrafts'), q.my_drafts.count, '/records?status=draft'),
        queue('to-key', t('home.q.toKey'), '…', '/volumes'));
    }
    if (role === 'registrar' && q) {
      queues.push(queue('to-register', t('home.q.toRegister'), q.office.verified, '/records?status=verified'),
        queue('duplicates', t('home.q.duplicates'), q.office.duplicates, '/records?status=verified'));
    }
    if (role === 'auditor' && q) {
      queues.push(queue('office-drafts', t('home.q.officeDrafts'), q.office.drafts, '/records?status=draft'),
        queue('office-registered', t('home.q.officeRegistered'), q.office.registered, '/records?status=registered'));
    }
    if (role === 'enrolment_officer' && pp)
      queues.push(queue('my-applications', t('home.q.myApplications'), pp.submitted.mine, '/passport?status=submitted'));
    if (role === 'approver' && pp)
      queues.push(queue('to-approve', t('home.q.toApprove'), pp.submitted.office, '/passport?status=submitted'));
    if (role === 'issuance_operator' && pp) {
      queues.push(queue('to-personalize', t('home.q.toPersonalize'), pp.approved.office, '/passport?status=approved'),
        queue('to-qc', t('home.q.toQc'), pp.personalized.office, '/passport?status=personalized'),
        queue('to-issue', t('home.q.toIssue'), pp.qc_passed.office, '/passport?status=qc_passed'));
    }
    grid.append(h('section', { class: 'card', 'data-role': role, 'aria-labelledby': 'role-' + role },
      h('h2', { id: 'role-' + role }, t('role.' + role)),
      h('p', {}, t('role.' + role + '.tasks')),
      queues.length ? h('ul', { class: 'queues', 'aria-label': t('home.queues') }, queues) : null,
      h('ul', { class: 'links' }, (LINKS[role] || []).map(([href, key]) => h('li', {}, h('a', { href }, t(key)))))));
  }
  if (session.roles.length === 0) grid.append(h('p', {}, t('home.noroles')));
  app.append(grid);
  // The office's record counts, for every role that reads records.
  if (q) {
    app.append(h('section', { class: 'card', id: 'office-counts', 'aria-labelledby': 'office-counts-h' },
      h('h2', { id: 'office-counts-h' }, t('home.officeCounts')),
      h('p', {}, [tn('home.count.drafts', q.office.drafts), tn('home.count.verified', q.office.verified),
        tn('home.count.registered', q.office.registered), tn('home.count.duplicates', q.office.duplicates)].join(' · '))));
  }
  // To key: pages of imported volumes with nothing keyed yet (clerks), each
  // volume's line linking to its keying progress.
  const toKey = document.getElementById('queue-to-key');
  if (toKey) {
    const v = await api('GET', '/volumes').catch(() => null);
    const vols = Array.isArray(v?.volumes) ? v.volumes : [];
    const progress = await Promise.all(vols.slice(0, 20).map((x) =>
      api('GET', '/volumes/' + encodeURIComponent(x.id) + '/progress').catch(() => null)));
    const pages = progress.reduce((n, p) => n + (p?.totals?.pages_to_key || 0), 0);
    toKey.dataset.count = String(pages);
    toKey.querySelector('.count').textContent = String(pages);
    toKey.querySelector('.count').classList.toggle('zero', pages === 0);
    toKey.querySelector('a').lastChild.textContent = ' ' + t('home.q.toKeyPages');
    const items = progress.filter(Boolean).map((p) => h('li', { 'data-volume': p.volume },
      h('a', { href: '/volumes/' + encodeURIComponent(p.volume) + '/progress' },
        t('home.q.volumeLine', { volume: `${p.office} ${p.year} ${p.name}`, toKey: p.totals.pages_to_key, pages: p.totals.pages }))));
    if (items.length) toKey.append(h('ul', { class: 'queue-items' }, items));
  }
}
