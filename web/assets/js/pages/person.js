// civreg UI: a person, with the signed links to their birth record.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';
import { recordView } from '../record-form.js';

export async function render(app) {
  const uin = decodeURIComponent(location.pathname.split('/')[2]);
  const p = await api('GET', '/persons/' + encodeURIComponent(uin));
  document.title = `${t('title.person')} ${p.uin} · civreg`;
  // p.record is the record as registry_record_show gives it: the fields
  // are in p.record.record.
  const rec = p.record?.record || {};
  const c = rec.child || {};
  app.append(h('h1', {}, name(`${c.given_names || ''} ${c.family_name || ''}`.trim())),
    h('p', {}, 'UIN ', h('strong', { id: 'person-uin' }, p.uin), ' · ', t('record.regno'), ' ',
      h('a', { href: '/records/' + encodeURIComponent(p.record_id) }, p.registration_number || p.record_id)),
    h('section', { class: 'card' }, h('h2', {}, t('person.links')),
      h('ul', { id: 'links' }, (p.links || []).map((l) => h('li', {},
        h('span', { class: l.signature_valid ? 'mark ok' : 'mark bad', 'data-valid': String(l.signature_valid === true) },
          l.signature_valid ? t('trace.verified') : t('trace.failed')), ' ',
        t('person.signedBy'), ' ', name(l.signer || ''))))),
    recordView(rec));
}
