// civreg UI: the home page, one panel per role the user holds, listing the
// work that role does in this office.
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

export async function render(app, { session }) {
  app.append(h('h1', {}, t('home.welcome', { name: '' }), name(session.username)));
  if (session.office) app.append(h('p', {}, t('home.office'), ' ', name(session.office)));
  const grid = h('div', { class: 'grid', id: 'roles' });
  for (const role of session.roles) {
    grid.append(h('section', { class: 'card', 'data-role': role },
      h('h2', {}, t('role.' + role)),
      h('p', {}, t('role.' + role + '.tasks'))));
  }
  if (session.roles.length === 0) grid.append(h('p', {}, t('home.noroles')));
  app.append(grid);
}
