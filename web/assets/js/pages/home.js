// civreg UI: the home page: one panel per role the user holds, with the
// screens that role works in.
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

const LINKS = {
  clerk: [['/records/new', 'home.newRecord'], ['/records?status=draft', 'home.drafts'],
    ['/scans/upload', 'home.upload'], ['/volumes', 'home.volumes']],
  registrar: [['/records?status=verified', 'home.toRegister'], ['/records?status=registered', 'home.registered']],
  enrolment_officer: [['/passport/enrol', 'home.enrol'], ['/passport', 'home.applications'],
    ['/records?status=registered', 'home.registered']],
  approver: [['/passport?status=submitted', 'home.approvals'], ['/records?status=registered', 'home.registered']],
  issuance_operator: [['/passport?status=approved', 'home.personalize'], ['/passport/stock', 'home.stock'],
    ['/passport/documents', 'home.documents']],
  auditor: [['/audit', 'home.trace'], ['/records', 'home.allRecords'], ['/admin/users', 'home.users']],
  admin: [['/admin/users', 'home.users'], ['/audit', 'home.trace']],
};

export async function render(app, { session }) {
  app.append(h('h1', {}, t('home.welcome', { name: '' }), name(session.username)));
  if (session.office) app.append(h('p', {}, t('home.office'), ' ', name(session.office)));
  const grid = h('div', { class: 'grid', id: 'roles' });
  for (const role of session.roles) {
    grid.append(h('section', { class: 'card', 'data-role': role },
      h('h2', {}, t('role.' + role)),
      h('p', {}, t('role.' + role + '.tasks')),
      h('ul', { class: 'links' }, (LINKS[role] || []).map(([href, key]) => h('li', {}, h('a', { href }, t(key)))))));
  }
  if (session.roles.length === 0) grid.append(h('p', {}, t('home.noroles')));
  app.append(grid);
}
