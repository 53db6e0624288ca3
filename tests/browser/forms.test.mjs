// Browser test of the forms that help (demo office, in French): the record
// form's pick-lists (sex, place type, birth type, relationship), dates
// written as the registers write them, required fields marked, errors
// beside the field in the user's language; the registry's plausibility
// checks (a date in the future, a registration before the birth, a mother
// born after the child are refused; a parent younger than 10 or older
// than 70 at the birth is a warning the clerk confirms), checked on the
// wire and on the screen; keyboard-only keying with a visible focus; the
// passport enrolment form's required fields.
import assert from 'node:assert/strict';
import { catalogue } from './audit.mjs';
import { apiCall, assertNoProblems, demoOffice, loadPlaywright } from './harness.mjs';

const playwright = await loadPlaywright();
const office = await demoOffice(playwright);
const { server, open } = office;
const url = (p) => new URL(p, server.url).href;
const fr = catalogue('fr');
const fill = (s, vars = {}) => Object.entries(vars).reduce((a, [k, v]) => a.split(`{${k}}`).join(String(v)), s);

async function user(name) {
  const b = await office.user(name);
  assert.equal((await apiCall(b.page, 'PATCH', '/session', { lang: 'fr' })).status, 200);
  return b;
}

const nextYear = new Date().getUTCFullYear() + 1;

await office.run(async () => {
  const clerk = await user('clerk');
  const example = (await apiCall(clerk.page, 'GET', '/records/example')).body;
  const rec = (f) => { const r = structuredClone(example); r.evidence = []; f(r); return { record: r }; };

  // --- On the wire: refusals carry a code and the field; warnings wait for a confirmation.
  let r = await apiCall(clerk.page, 'POST', '/records', rec((x) => { x.birth.date = `${nextYear}-01-02`; x.registration_date = `${nextYear}-01-03`; }));
  assert.equal(r.status, 422);
  assert.equal(r.body.error.code, 'date_in_future');
  assert.equal(r.body.error.field, 'birth.date');
  r = await apiCall(clerk.page, 'POST', '/records', rec((x) => { x.registration_date = '1987-03-01'; }));
  assert.equal(r.body.error.code, 'registration_before_birth', JSON.stringify(r.body));
  r = await apiCall(clerk.page, 'POST', '/records', rec((x) => { x.birth.date = '1987'; x.registration_date = '1986-12-30'; }));
  assert.equal(r.body.error.code, 'registration_before_birth', 'partial dates are compared too');
  r = await apiCall(clerk.page, 'POST', '/records', rec((x) => { x.mother.date_of_birth = '1990-01-01'; }));
  assert.equal(r.body.error.code, 'parent_born_after_child');
  assert.equal(r.body.error.field, 'mother.date_of_birth');
  r = await apiCall(clerk.page, 'POST', '/records', rec((x) => { x.mother.date_of_birth = '1979-05'; }));
  assert.equal(r.status, 422);
  assert.equal(r.body.error.code, 'plausibility');
  assert.deepEqual(r.body.error.warnings, [{ code: 'parent_too_young', field: 'mother.date_of_birth', years: 7 }]);
  r = await apiCall(clerk.page, 'POST', '/records', rec((x) => { x.father.date_of_birth = '1910-02-01'; }));
  assert.deepEqual(r.body.error.warnings.map((w) => w.code), ['parent_too_old']);
  r = await apiCall(clerk.page, 'POST', '/records', { ...rec((x) => { x.father.date_of_birth = '1910-02-01'; }), confirm_warnings: true });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await apiCall(clerk.page, 'POST', '/records', rec((x) => { x.child.sex = 'F'; }));
  assert.equal(r.body.error.code, 'field_choice');
  assert.equal(r.body.error.field, 'child.sex');

  // --- On the screen, in French.
  const p = clerk.page;
  await p.goto(url('/records/new'));
  await p.waitForSelector('#draft-form');
  // pick-lists with French labels, the stored values unchanged
  for (const [id, value, key] of [['#f-child-sex', 'female', 'choice.sex.female'], ['#f-birth-place_type', 'home', 'choice.place_type.home'],
    ['#f-birth-type', 'twin', 'choice.type.twin'], ['#f-informant-relationship', 'midwife', 'choice.relationship.midwife']]) {
    assert.equal(await p.$eval(id, (el) => el.tagName), 'SELECT', id);
    assert.equal(await p.$eval(`${id} option[value="${value}"]`, (o) => o.textContent), fr[key]);
  }
  // required fields marked (visibly and for assistive technology)
  assert.equal(await p.getAttribute('#f-child-given_names', 'aria-required'), 'true');
  assert.match(await p.textContent('label[for="f-child-given_names"]'), /\*/);
  assert.equal(await p.getAttribute('#f-father-given_names', 'aria-required'), null);
  // an empty form: errors beside the fields, in French, focus on the first
  await p.click('#save-draft');
  await p.waitForSelector('#f-child-given_names-error:not(:empty)');
  assert.equal(await p.textContent('#f-child-given_names-error'), fr['form.required']);
  assert.equal(await p.getAttribute('#f-child-given_names', 'aria-invalid'), 'true');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'f-child-given_names');
  const [ibox, ebox] = await Promise.all([p.locator('#f-child-given_names').boundingBox(), p.locator('#f-child-given_names-error').boundingBox()]);
  assert.ok(ebox.y >= ibox.y + ibox.height - 1 && ebox.y - (ibox.y + ibox.height) < 30, 'error not beside the field');
  // a date the register's way; a mother born after the child: refused beside the field
  const form = structuredClone(example);
  form.birth.date = '12/03/1987';
  form.mother.date_of_birth = '02.04.1990';
  form.registration_date = '20.03.1987';
  for (const [k, v] of Object.entries(form)) {
    if (k === 'evidence') continue;
    if (v && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v)) {
        const sel = `#f-${k}-${k2}`;
        if (await p.$eval(sel, (el) => el.tagName === 'SELECT')) await p.selectOption(sel, String(v2));
        else if (typeof v2 === 'boolean') await p.setChecked(sel, v2);
        else await p.fill(sel, String(v2));
      }
    } else if (typeof v === 'boolean') await p.setChecked(`#f-${k}`, v);
    else await p.fill(`#f-${k}`, String(v));
  }
  await p.click('#save-draft');
  await p.waitForSelector('#f-mother-date_of_birth-error:not(:empty)');
  const motherMsg = fill(fr['error.parent_born_after_child'], { field: `${fr['field.mother']} · ${fr['field.mother.date_of_birth']}` });
  assert.equal(await p.textContent('#f-mother-date_of_birth-error'), motherMsg);
  assert.equal(await p.inputValue('#f-birth-date'), '1987-03-12', 'the date is shown in the registry form');
  // a date no register writes
  await p.fill('#f-mother-date_of_birth', '31/02/1960');
  await p.click('#save-draft');
  await p.waitForFunction(() => document.querySelector('#f-mother-date_of_birth-error').textContent !== '');
  assert.match(await p.textContent('#f-mother-date_of_birth-error'), /écrivez la date comme dans le registre/);
  // a mother aged 7 at the birth: a warning beside the field, confirmed with a tick
  await p.fill('#f-mother-date_of_birth', '05/1979');
  await p.click('#save-draft');
  await p.waitForSelector('#warnings-box');
  assert.equal(await p.getAttribute('#warnings-box li', 'data-code'), 'parent_too_young');
  assert.equal(await p.textContent('#f-mother-date_of_birth-error'),
    fill(fr['warning.parent_too_young'], { field: `${fr['field.mother']} · ${fr['field.mother.date_of_birth']}`, years: 7 }));
  await p.check('#confirm-warnings');
  await p.click('#save-draft');
  await p.waitForURL((u) => /\/records\/[^/]+$/.test(u.pathname) && !u.pathname.endsWith('/new'));
  await p.waitForSelector('#record-status');
  const id = decodeURIComponent(new URL(p.url()).pathname.split('/')[2]);
  const saved = (await apiCall(p, 'GET', '/records/' + encodeURIComponent(id))).body;
  assert.equal(saved.record.birth.date, '1987-03-12');
  assert.equal(saved.record.mother.date_of_birth, '1979-05');
  assert.equal(saved.record.registration_date, '1987-03-20');
  assert.equal(saved.record.informant.relationship, 'mother');

  // --- Keyboard only: Tab to each field, type, choose, Enter to save; focus visible.
  await p.goto(url('/records/new'));
  await p.waitForSelector('#draft-form');
  const want = structuredClone(example);
  want.child.given_names = 'Clavier';
  want.child.family_name = 'Seul';
  want.register.entry = 77;
  const values = {};
  for (const [k, v] of Object.entries(want)) {
    if (k === 'evidence' || typeof v === 'boolean') continue;
    if (v && typeof v === 'object') for (const [k2, v2] of Object.entries(v)) values[`f-${k}-${k2}`] = v2;
    else values[`f-${k}`] = v;
  }
  let seen = 0;
  for (let i = 0; i < 200 && seen < Object.keys(values).length; i++) {
    await p.keyboard.press('Tab');
    const el = await p.evaluate(() => ({ id: document.activeElement.id, tag: document.activeElement.tagName,
      outline: getComputedStyle(document.activeElement).outlineStyle }));
    if (!(el.id in values)) continue;
    assert.notEqual(el.outline, 'none', `no visible focus on ${el.id}`);
    if (el.tag === 'SELECT') {
      // choose by keyboard: arrow down until the value is selected
      for (let j = 0; j < 12 && (await p.inputValue('#' + el.id)) !== String(values[el.id]); j++) await p.keyboard.press('ArrowDown');
      assert.equal(await p.inputValue('#' + el.id), String(values[el.id]), el.id);
    } else await p.keyboard.type(String(values[el.id]));
    seen++;
  }
  assert.equal(seen, Object.keys(values).length, 'not every field was reached with Tab');
  await p.focus('#f-remarks');
  await p.keyboard.press('Enter');
  await p.waitForURL((u) => /\/records\/[^/]+$/.test(u.pathname) && !u.pathname.endsWith('/new'));
  await p.waitForSelector('#record-status');

  // --- The enrolment form: required fields marked, errors beside them in French.
  const enrol = await user('enrol');
  await enrol.page.goto(url('/passport/enrol'));
  await enrol.page.waitForSelector('#enrol-form');
  assert.match(await enrol.page.textContent('label[for="uin"]'), /\*/);
  await enrol.page.click('#enrol-submit');
  await enrol.page.waitForSelector('#uin-error:not(:empty)');
  assert.equal(await enrol.page.textContent('#uin-error'), fr['form.required']);
  assert.equal(await enrol.page.textContent('#photo-error'), fr['form.required']);
  assert.equal(await enrol.page.getAttribute('#uin', 'aria-invalid'), 'true');
  assert.equal(await enrol.page.textContent('label[for="doc-type"]'), fr['enrol.document']);
  // a server error shown in French from its code: an unknown UIN
  await enrol.page.fill('#uin', '000000000');
  await enrol.page.click('#lookup');
  await enrol.page.waitForSelector('#person .error');
  const notFound = await enrol.page.textContent('#person .error');
  assert.ok(Object.entries(fr).some(([k, v]) => k.startsWith('error.') && v === notFound), `not a French catalogue text: ${notFound}`);

  assertNoProblems(open, '400|404|409|422');
  console.log('ok: forms');
}, { logTail: 3000 });
