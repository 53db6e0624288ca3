// civreg UI: a screen the user's roles do not open (the server answers 403
// with this page, not raw JSON).
import { h } from '../dom.js';
import { t } from '../i18n.js';

export async function render(app) {
  app.append(h('h1', { id: 'forbidden' }, t('forbidden.title')),
    h('p', {}, t('forbidden.help')),
    h('p', {}, h('a', { href: '/' }, t('forbidden.home'))));
}
