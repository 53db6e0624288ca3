// civreg UI: enrolment. The officer finds the person by UIN, takes or
// uploads the photo (JPEG, 35:45, previewed and checked here and again by
// the server), a signature image and contact details, and opens the
// application; the server runs and stores the evidence checks.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, name, clear } from '../dom.js';

function readFile(input) {
  const f = input.files && input.files[0];
  if (!f) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(f);
  });
}

export async function render(app) {
  const out = h('div', { id: 'person' });
  const msg = h('p', { id: 'enrol-error', class: 'error', role: 'alert' });
  const preview = h('img', { id: 'photo-preview', alt: 'photo preview', width: '140', hidden: true });
  const aspect = h('span', { id: 'photo-aspect' });
  const uin = h('input', { id: 'uin', name: 'uin', inputmode: 'numeric', autocomplete: 'off' });
  const type = h('select', { id: 'doc-type' }, h('option', { value: 'TD3' }, 'Passport (TD3)'),
    h('option', { value: 'TD1' }, 'Identity card (TD1)'));
  const kind = h('select', { id: 'kind' }, ['new', 'renewal', 'replacement'].map((k) => h('option', { value: k }, k)));
  const replaces = h('input', { id: 'replaces' });
  const photo = h('input', { id: 'photo', type: 'file', accept: 'image/jpeg', capture: 'user' });
  const signature = h('input', { id: 'signature', type: 'file', accept: 'image/jpeg,image/png' });
  const phone = h('input', { id: 'phone', type: 'tel' });
  const email = h('input', { id: 'email', type: 'email' });
  photo.addEventListener('change', async () => {
    const url = await readFile(photo);
    if (!url) return;
    preview.src = url;
    preview.hidden = false;
    preview.onload = () => {
      const r = preview.naturalWidth / preview.naturalHeight;
      aspect.textContent = `${preview.naturalWidth} x ${preview.naturalHeight} px, ` +
        (Math.abs(r / (35 / 45) - 1) <= 0.06 ? 'close to 35:45' : 'not 35:45: the server will refuse it');
    };
  });
  const lookup = h('button', { type: 'button', id: 'lookup', onclick: async () => {
    clear(out);
    try {
      const p = await api('GET', '/persons/' + encodeURIComponent(uin.value.trim()));
      const rec = p.record?.record || p.record || {};
      const c = rec.child || {};
      out.append(h('p', {}, 'Person: ', name(`${c.given_names || ''} ${c.family_name || ''}`.trim()),
        ` · born ${rec.birth?.date || ''} · record `,
        h('a', { href: '/records/' + encodeURIComponent(p.record_id) }, p.registration_number || p.record_id)));
    } catch (e) {
      out.append(h('p', { class: 'error' }, e.message));
    }
  } }, 'Find person');
  const form = h('form', { id: 'enrol-form', onsubmit: async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    try {
      const body = { uin: uin.value.trim(), doc_type: type.value, kind: kind.value,
                     photo: await readFile(photo), signature: await readFile(signature),
                     contact: { phone: phone.value || undefined, email: email.value || undefined } };
      if (replaces.value.trim()) body.replaces = replaces.value.trim();
      if (!body.signature) delete body.signature;
      const a = await api('POST', '/applications', body);
      location.assign('/passport/applications/' + encodeURIComponent(a.id));
    } catch (e) {
      msg.textContent = e.code === 'deceased' ? t('passport.error.deceased') : e.message;
    }
  } },
  h('label', {}, 'UIN ', uin), ' ', lookup, out,
  h('label', {}, 'Document ', type), h('label', {}, 'Application ', kind),
  h('label', {}, 'Replaces (number) ', replaces),
  h('label', {}, 'Photo (JPEG, 35 x 45) ', photo), preview, aspect,
  h('label', {}, 'Signature image ', signature),
  h('label', {}, 'Phone ', phone), h('label', {}, 'E-mail ', email),
  h('button', { type: 'submit', id: 'enrol-submit' }, 'Open application'), msg);
  app.append(h('h1', {}, 'Enrolment'), form);
}
