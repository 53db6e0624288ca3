// A whole day of the office in French, in the browser, on a demo office
// started by the test: the clerk prints a separator sheet, uploads it with
// a register page, follows the volume's keying progress and keys a birth
// from the page; a second clerk verifies it blind from her queue; the
// registrar registers it from his; the enrolment officer enrols the person
// for a passport; the approver approves; the issuance operator
// personalizes, passes quality control and issues; the auditor reads the
// document's provenance chain back to the scanned page, in French. Every
// user works in French (the session's language); a string missing from
// the French catalogue is a console error, and any console error fails the
// test. The screens no other test audits in French — the separator
// sheets, a volume's progress, a document's provenance chain — pass the
// axe-core accessibility audit and hold no English text
// (tests/browser/audit.mjs). Screenshots: day-fr-*.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { axeAudit, axeAvailable, languageScan } from './audit.mjs';
import { apiCall, assertNoProblems, demoOffice, fillRecord, loadPlaywright, shot, skip } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '..', 'data', 'issuance');
const playwright = await loadPlaywright();
if (spawnSync('pdftoppm', ['-v']).error) {
  console.log('SKIP: pdftoppm is missing (install/deps.sh installs poppler-utils)');
  process.exit(77);
}
if (!axeAvailable()) skip('axe-core is missing (install/deps.sh runs npm install in tests/)');
const office = await demoOffice(playwright);
const { server, url, open } = office;

// The French text and accessibility audits of the screen PAGE shows, with
// every <details> opened so folded text is read too.
async function audit(page, where) {
  await page.evaluate(() => document.querySelectorAll('main details').forEach((d) => { d.open = true; }));
  await languageScan(page, where);
  await axeAudit(page, `${where} (fr)`);
  await page.evaluate(() => document.querySelectorAll('main details').forEach((d) => { d.open = false; }));
}

// A user signed in, who then chooses French (kept in the session).
async function user(name) {
  const b = await office.user(name);
  await b.page.selectOption('#lang', 'fr');
  await b.page.waitForFunction(() => document.documentElement.lang === 'fr' && document.querySelector('#roles'));
  assert.equal(await b.page.textContent('#signout'), 'Se déconnecter');
  return b;
}

// Wait until GET PATH answers KEY = VALUE (the screens reload after acting).
async function until(page, path, key, value) {
  for (let i = 0; i < 100; i++) {
    // the screen may be reloading: asked again after the navigation
    const r = await apiCall(page, 'GET', path).catch(() => null);
    if (r && r.body && r.body[key] === value) {
      await page.waitForLoadState('load');
      return r.body;
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`${path}: ${key} never became ${value}`);
}

await office.run(async () => {
  // 08:00, the clerk: a separator sheet for volume 12 of 1990, printed.
  const clerk = await user('clerk');
  await shot(clerk.page, 'day-fr-1-clerk-home');
  await clerk.page.click('#roles a[href="/separators"]');
  await clerk.page.waitForSelector('#sep-form');
  await audit(clerk.page, '/separators');
  assert.equal(await clerk.page.textContent('h1'), 'Feuilles de séparation de volume');
  await clerk.page.fill('#sep-year', '1990');
  await clerk.page.fill('#sep-volume', '12');
  await clerk.page.click('#sep-preview');
  await clerk.page.waitForSelector('.sep-sheet');
  assert.equal(await clerk.page.textContent('#sep-sheets h2'), '1 feuille');
  assert.equal(await clerk.page.textContent('.sep-sheet .sep-title'), 'SÉPARATEUR DE VOLUME');
  await audit(clerk.page, '/separators (preview)');
  const [dl] = await Promise.all([clerk.page.waitForEvent('download'), clerk.page.click('#sep-print')]);
  const pdf = join(server.dir, 'sep.pdf');
  await dl.saveAs(pdf);
  assert.equal(spawnSync('pdftoppm', ['-r', '150', '-png', '-singlefile', pdf, join(server.dir, '00-sep')]).status, 0);
  // The sheet and the register page, scanned and uploaded.
  await clerk.page.goto(url('/scans/upload'));
  await clerk.page.waitForSelector('#upload-form');
  await clerk.page.setInputFiles('#upload-files', [join(server.dir, '00-sep.png'),
    new URL('../../web/demo/register-page.png', import.meta.url).pathname]);
  await clerk.page.click('#upload-start');
  await clerk.page.waitForSelector('#import-result');
  // The volume's progress from the home queue: its one page is to key.
  const vol = 'DEMO|1990|12';
  await clerk.page.goto(server.url);
  await clerk.page.waitForSelector(`#queue-to-key li[data-volume="${vol}"] a`);
  assert.match(await clerk.page.textContent(`#queue-to-key li[data-volume="${vol}"]`), /DEMO 1990 12 : 1 page\(s\) à saisir sur 1/);
  await clerk.page.click(`#queue-to-key li[data-volume="${vol}"] a`);
  await clerk.page.waitForSelector('#progress tr.to-key');
  assert.match(await clerk.page.textContent('#progress-totals'), /^1 pages : 0 avec des actes saisis, 1 à saisir/);
  await shot(clerk.page, 'day-fr-2-progress');
  await audit(clerk.page, `/volumes/${vol}/progress`);
  // Keying beside the page.
  await clerk.page.click('#progress tr[data-page="1"] a.key-link');
  await clerk.page.waitForSelector('#draft-form');
  await clerk.page.waitForFunction(() => document.querySelector('#page-image')?.naturalWidth > 0);
  const example = (await apiCall(clerk.page, 'GET', '/records/example')).body;
  const record = structuredClone(example);
  record.child.given_names = 'Aminata Célestine';
  record.child.family_name = 'Journée-Française';
  record.register = { office: 'DEMO', year: 1990, volume: '12', page: 17, entry: 3 };
  const keyed = structuredClone(record);
  keyed.register = { page: 17, entry: 3 };
  await fillRecord(clerk.page, keyed);
  await shot(clerk.page, 'day-fr-3-keying');
  await clerk.page.click('#save-draft');
  await clerk.page.waitForURL((u) => /\/records\/[^/]+$/.test(u.pathname));
  const id = decodeURIComponent(new URL(clerk.page.url()).pathname.split('/')[2]);
  const enc = encodeURIComponent(id);
  await clerk.page.waitForSelector('#record-status');

  // 10:00, the second clerk: the draft is in her queue; she keys it blind.
  const clerk2 = await user('clerk2');
  await clerk2.page.waitForSelector(`#queue-to-verify [data-id="${id}"] a`);
  await shot(clerk2.page, 'day-fr-4-clerk2-home');
  await clerk2.page.click(`#queue-to-verify [data-id="${id}"] a`);
  await clerk2.page.waitForSelector('#verify-form');
  assert.equal(await clerk2.page.inputValue('#f-child-given_names'), '');
  await fillRecord(clerk2.page, record);
  await shot(clerk2.page, 'day-fr-5-blind');
  await clerk2.page.click('#submit-verify');
  await clerk2.page.waitForFunction(() => document.querySelector('#verified') || document.querySelector('#form-error')?.textContent);
  assert.equal(await clerk2.page.evaluate(() => document.querySelector('#form-error')?.textContent || ''), '');
  await until(clerk2.page, `/records/${enc}`, 'status', 'verified');

  // 11:00, the registrar registers it from his queue.
  const registrar = await user('registrar');
  assert.ok(Number(await registrar.page.getAttribute('#queue-to-register', 'data-count')) >= 1);
  await shot(registrar.page, 'day-fr-6-registrar-home');
  await registrar.page.goto(url(`/records/${enc}`));
  await registrar.page.waitForSelector('#register');
  await registrar.page.click('#register');
  const registered = await until(registrar.page, `/records/${enc}`, 'status', 'registered');
  const uin = registered.uin;
  assert.match(uin, /^\d{10}$/);

  // 13:00, the enrolment officer enrols the person for a passport.
  const enrol = await user('enrol');
  await shot(enrol.page, 'day-fr-7-enrol-home');
  await enrol.page.goto(url('/passport/enrol'));
  await enrol.page.waitForSelector('#enrol-form');
  await enrol.page.fill('#uin', uin);
  await enrol.page.click('#lookup');
  await enrol.page.waitForSelector('#person bdi');
  await enrol.page.setInputFiles('#photo', join(dataDir, 'portrait.jpg'));
  await enrol.page.waitForFunction(() => /35:45/.test(document.querySelector('#photo-aspect').textContent));
  await enrol.page.setInputFiles('#signature', join(dataDir, 'signature.png'));
  await enrol.page.click('#enrol-submit');
  await enrol.page.waitForURL((u) => u.pathname.startsWith('/passport/applications/'));
  const app = decodeURIComponent(new URL(enrol.page.url()).pathname.split('/')[3]);
  const appPath = `/applications/${encodeURIComponent(app)}`;

  // 14:00, the approver approves from the queue.
  const approver = await user('approver');
  assert.ok(Number(await approver.page.getAttribute('#queue-to-approve', 'data-count')) >= 1);
  await shot(approver.page, 'day-fr-8-approver-home');
  await approver.page.goto(url('/passport?status=submitted'));
  await approver.page.waitForSelector(`tr[data-id="${app}"] a`);
  await approver.page.click(`tr[data-id="${app}"] a`);
  await approver.page.waitForSelector('#approve');
  await approver.page.click('#approve');
  const approved = await until(approver.page, appPath, 'status', 'approved');
  const number = approved.document_number || (await approver.page.textContent('#document-number'));

  // 15:00, the operator personalizes, checks and issues.
  const operator = await user('operator');
  assert.ok(Number(await operator.page.getAttribute('#queue-to-personalize', 'data-count')) >= 1);
  await shot(operator.page, 'day-fr-9-operator-home');
  await operator.page.goto(url('/passport/applications/' + encodeURIComponent(app)));
  await operator.page.click('#personalize');
  await until(operator.page, appPath, 'status', 'personalized');
  await operator.page.waitForSelector('#qc-pass');
  await operator.page.click('#qc-pass');
  await until(operator.page, appPath, 'status', 'qc_passed');
  await operator.page.waitForSelector('#issue');
  await operator.page.click('#issue');
  await until(operator.page, appPath, 'status', 'issued');

  // 17:00, the auditor reads the document's provenance chain, in French.
  const auditor = await user('auditor');
  await shot(auditor.page, 'day-fr-10-auditor-home');
  await auditor.page.goto(url(`/passport/documents/${encodeURIComponent(number)}/trace`));
  await auditor.page.waitForSelector('#chain');
  assert.deepEqual((await auditor.page.$$eval('#chain > li', (l) => l.map((e) => e.id))).slice(0, 6),
    ['chain-document', 'chain-application', 'chain-approval', 'chain-person', 'chain-record', 'chain-page']);
  assert.match(await auditor.page.textContent('#trace-summary'), /^Les \d+ événements sont vérifiés/);
  assert.match(await auditor.page.textContent('#chain-approval li.event[data-type="application.approve"] .sentence'),
    /^Approuvée par approbateur Fatuma Hassan le \d{1,2} [a-zéû]+\.? \d{4} à \d{2}:\d{2}$/);
  assert.match(await auditor.page.textContent('#chain-record li.event[data-type="record.register"] .sentence'),
    /^Enregistré par officier d’état civil Amina Otieno le /);
  assert.match(await auditor.page.textContent('#chain-record li.event[data-type="record.verify"] .sentence'),
    /^Vérifié en aveugle par agent de saisie Hélène Dubois le /);
  await auditor.page.waitForFunction(() => document.querySelector('#chain-page figure img')?.naturalWidth > 0);
  const checks = await auditor.page.$$eval('#chain [data-check]', (l) => l.map((e) => e.dataset.ok));
  assert.ok(checks.length > 10 && checks.every((x) => x === 'true'));
  await shot(auditor.page, 'day-fr-11-auditor-chain');
  await audit(auditor.page, `/passport/documents/${number}/trace`);

  for (const u of open) assert.equal(await u.page.evaluate(() => document.documentElement.lang), 'fr');
  assertNoProblems(open);
  console.log('ok: a day of the office in French, clerk to auditor');
}, { logTail: 3000 });
