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

// A labelled field with its error paragraph beside it (required marked).
function field(id, text, required, control) {
  const input = control.id === id ? control : control.querySelector('#' + id);
  input.setAttribute('aria-describedby', id + '-error');
  return h('div', { class: 'field' }, h('label', { for: id }, text,
    required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null), control,
  h('p', { class: 'field-error', id: id + '-error' }));
}

export async function render(app) {
  const out = h('div', { id: 'person' });
  const msg = h('p', { id: 'enrol-error', class: 'error', role: 'alert' });
  const preview = h('img', { id: 'photo-preview', alt: t('enrol.photoPreview'), width: '140', hidden: true });
  const aspect = h('span', { id: 'photo-aspect' });
  const uin = h('input', { id: 'uin', name: 'uin', inputmode: 'numeric', autocomplete: 'off', 'aria-required': 'true' });
  const type = h('select', { id: 'doc-type' }, h('option', { value: 'TD3' }, t('doc.TD3')),
    h('option', { value: 'TD1' }, t('doc.TD1')));
  const kind = h('select', { id: 'kind' }, ['new', 'renewal', 'replacement'].map((k) => h('option', { value: k }, t('enrol.kind.' + k))));
  const replaces = h('input', { id: 'replaces' });
  const photo = h('input', { id: 'photo', type: 'file', accept: 'image/jpeg', capture: 'user', 'aria-required': 'true' });
  const signature = h('input', { id: 'signature', type: 'file', accept: 'image/jpeg,image/png' });
  const phone = h('input', { id: 'phone', type: 'tel', autocomplete: 'tel' });
  const email = h('input', { id: 'email', type: 'email', autocomplete: 'email' });
  photo.addEventListener('change', async () => {
    const url = await readFile(photo);
    if (!url) return;
    preview.src = url;
    preview.hidden = false;
    preview.onload = () => {
      const r = preview.naturalWidth / preview.naturalHeight;
      aspect.textContent = `${preview.naturalWidth} x ${preview.naturalHeight} px, ` +
        (Math.abs(r / (35 / 45) - 1) <= 0.06 ? t('enrol.aspectOk') : t('enrol.aspectBad'));
    };
  });
  const lookup = h('button', { type: 'button', id: 'lookup', onclick: async () => {
    clear(out);
    try {
      const p = await api('GET', '/persons/' + encodeURIComponent(uin.value.trim()));
      const rec = p.record?.record || p.record || {};
      const c = rec.child || {};
      out.append(h('p', {}, t('enrol.person'), ' ', name(`${c.given_names || ''} ${c.family_name || ''}`.trim()),
        ' · ', t('enrol.born', { date: rec.birth?.date || '' }), ' · ', t('enrol.record'), ' ',
        h('a', { href: '/records/' + encodeURIComponent(p.record_id) }, p.registration_number || p.record_id)));
    } catch (e) {
      out.append(h('p', { class: 'error' }, e.message));
    }
  } }, t('enrol.find'));
  const form = h('form', { id: 'enrol-form', onsubmit: async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    for (const el of [uin, photo]) el.removeAttribute('aria-invalid');
    const missing = [uin.value.trim() ? null : uin, photo.files?.length ? null : photo].filter(Boolean);
    if (missing.length) {
      for (const el of missing) {
        el.setAttribute('aria-invalid', 'true');
        document.getElementById(el.id + '-error').textContent = t('form.required');
      }
      msg.textContent = t('form.fix');
      missing[0].focus();
      return;
    }
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
  h('p', { class: 'hint required-note' }, h('span', { class: 'req', 'aria-hidden': 'true' }, '* '), t('form.requiredNote')),
  field('uin', t('enrol.uin'), true, h('div', { class: 'actions' }, uin, lookup)), out,
  field('doc-type', t('enrol.document'), false, type), field('kind', t('enrol.kind'), false, kind),
  field('replaces', t('enrol.replaces'), false, replaces),
  field('photo', t('enrol.photo'), true, photo), preview, aspect,
  field('signature', t('enrol.signature'), false, signature),
  field('phone', t('enrol.phone'), false, phone), field('email', t('enrol.email'), false, email),
  h('button', { type: 'submit', id: 'enrol-submit' }, t('enrol.submit')), msg);
  app.append(h('h1', {}, t('enrol.title')), form);
}
