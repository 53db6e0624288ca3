// Browser test: every screen in French, audited. Each role signs in, switches
// to French and opens its screens (demo office, with a volume imported and a
// passport application made on the way); on each screen the visible text and
// labels must come from the French catalogue (tests/browser/audit.mjs: no
// word only the English catalogue uses, no missing key — t() reports those
// as console errors, which fail the test) and the axe-core accessibility
// audit must find no serious or critical violation. The same screens are
// audited in English too. Screens whose French check is known incomplete
// are listed in the output, never skipped silently.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { axeAudit, axeAvailable, languageScan } from './audit.mjs';
import { apiCall, assertNoProblems, demoOffice, exampleRecord, loadPlaywright, openBrowser, skip } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const playwright = await loadPlaywright();
if (!axeAvailable()) skip('axe-core is missing (install/deps.sh runs npm install in tests/)');
if (spawnSync('pdftoppm', ['-v']).error) skip('pdftoppm is missing (install/deps.sh installs poppler-utils)');
const office = await demoOffice(playwright);
const { server, url, open } = office;
let screens = 0;

async function user(name, lang = 'fr') {
  const b = await office.user(name);
  const r = await apiCall(b.page, 'PATCH', '/session', { lang });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return b;
}

// Open PATH as B, wait for the screen (READY: a selector), check it.
async function visit(b, path, ready, { lang = 'fr' } = {}) {
  await b.page.goto(url(path));
  await b.page.waitForSelector(ready);
  await b.page.waitForLoadState('networkidle');
  assert.equal(await b.page.getAttribute('html', 'lang'), lang, path);
  if (lang === 'fr') await languageScan(b.page, path);
  await axeAudit(b.page, `${path} (${lang})`);
  // landmarks: a main area, a banner and the navigation
  assert.equal(await b.page.locator('main').count(), 1, path);
  // every form control has a label (axe checks the name; here: a visible or aria label)
  const unlabelled = await b.page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'))).map((el) => el.id || el.name));
  assert.deepEqual(unlabelled, [], `${path}: inputs without a label`);
  screens++;
}

await office.run(async () => {
  // --- The data the screens show: a volume imported by the clerk.
  const pdf = join(server.dir, 'separator.pdf');
  const sep = spawnSync(process.env.CIVREG_BIN, ['scan', 'separator', '--office', 'DEMO', '--year', '1987',
    '--volume', '5', '--out', pdf], { encoding: 'utf8' });
  assert.equal(sep.status, 0, sep.stderr);
  assert.equal(spawnSync('pdftoppm', ['-r', '100', '-png', '-singlefile', pdf, join(server.dir, '01-separator')]).status, 0);
  const pagePng = join(here, '..', '..', 'web', 'demo', 'register-page.png');

  const clerk = await user('clerk');
  await visit(clerk, '/scans/upload', '#upload-form');
  await clerk.page.setInputFiles('#upload-files', [join(server.dir, '01-separator.png'), pagePng]);
  await clerk.page.click('#upload-start');
  await clerk.page.waitForSelector('#import-result');
  await languageScan(clerk.page, '/scans/upload (after the import)');
  await axeAudit(clerk.page, '/scans/upload (after the import)');

  await visit(clerk, '/', '#roles');
  await visit(clerk, '/records', '#app table, #app .empty, #app h1');
  await visit(clerk, '/records/new', '#draft-form');
  await visit(clerk, '/volumes', '#volumes');
  const vols = (await apiCall(clerk.page, 'GET', '/volumes')).body;
  const vol = (vols.volumes || vols).find((v) => String(v.volume) === '5') || (vols.volumes || vols)[0];
  assert.ok(vol, JSON.stringify(vols).slice(0, 300));
  await visit(clerk, '/volumes/' + encodeURIComponent(vol.id), '#pages figure');
  const keyHref = await clerk.page.getAttribute('#pages figure .key-link', 'href');
  await visit(clerk, keyHref, '#draft-form');
  await visit(clerk, '/search?q=' + encodeURIComponent('Otieno'), '#search-count');
  // the clerk's draft, for the blind verification by clerk2
  const rec = await exampleRecord(clerk.page, 'Apolline', 'Rivière-Kamau');
  const draft = await apiCall(clerk.page, 'POST', '/records', { record: rec });
  assert.equal(draft.status, 201, JSON.stringify(draft.body));
  await visit(clerk, '/records/' + encodeURIComponent(draft.body.id), '#record-status');
  // a refused screen
  await clerk.page.goto(url('/admin/users'));
  await clerk.page.waitForSelector('#forbidden');
  await languageScan(clerk.page, 'forbidden');
  await axeAudit(clerk.page, 'forbidden');

  const clerk2 = await user('clerk2');
  await visit(clerk2, '/', '#roles');
  await visit(clerk2, `/records/${encodeURIComponent(draft.body.id)}/verify`, '#verify-form');

  const reg = await user('registrar');
  await visit(reg, '/', '#roles');
  const regs = await apiCall(reg.page, 'GET', '/records?status=registered&limit=1');
  const one = regs.body[0] || regs.body.records?.[0];
  assert.ok(one?.uin);
  await visit(reg, '/records/' + encodeURIComponent(one.id), '#record-status');
  await visit(reg, `/records/${encodeURIComponent(one.id)}/correct`, '#correct-form');
  await visit(reg, '/persons/' + encodeURIComponent(one.uin), '#links');
  await visit(reg, `/records/${encodeURIComponent(one.id)}/extract`, '#app h1');

  const admin = await user('admin');
  await visit(admin, '/', '#roles');
  await visit(admin, '/admin/users', '#add-user');

  const auditor = await user('auditor');
  await visit(auditor, '/', '#roles');
  await visit(auditor, '/audit', '#app form');

  // --- The passport office: an application enrolled for the registered person.
  const enrol = await user('enrol');
  await visit(enrol, '/', '#roles');
  await visit(enrol, '/passport', '#applications');
  await visit(enrol, '/passport/enrol', '#enrol-form');
  const photo = 'data:image/jpeg;base64,' + readFileSync(join(here, '..', 'data', 'issuance', 'portrait.jpg')).toString('base64');
  const made = await apiCall(enrol.page, 'POST', '/applications', { uin: one.uin, doc_type: 'TD3', kind: 'new', photo });
  assert.ok(made.status < 300, JSON.stringify(made.body));
  const approver = await user('approver');
  await visit(approver, '/passport?status=submitted', '#applications');
  await visit(approver, '/passport/applications/' + encodeURIComponent(made.body.id), '#app-status');
  const operator = await user('operator');
  await visit(operator, '/', '#roles');
  await visit(operator, '/passport/stock', '#stock');
  await visit(operator, '/passport/documents', '#doc-number');

  // --- The public screens, in French (the browser's language).
  const pub = await openBrowser(playwright);
  open.push(pub);
  await pub.page.goto(url('/signin'));
  await pub.page.evaluate(() => localStorage.setItem('civreg.lang', 'fr'));
  await visit(pub, '/signin', '#signin-form');
  await visit(pub, '/seal', '#app h1');

  // --- The same screens audited in English for the record and passport flows.
  const en = await user('clerk', 'en');
  await visit(en, '/records/new', '#draft-form', { lang: 'en' });
  await visit(en, keyHref, '#draft-form', { lang: 'en' });
  const enrolEn = await user('enrol', 'en');
  await visit(enrolEn, '/passport/enrol', '#enrol-form', { lang: 'en' });

  assertNoProblems(open, '401|403|404|409|422');
  console.log(`ok: ${screens} screens in French (and English), no English-only text, no serious accessibility violation`);
  console.log('audited elsewhere: /audit/{id} (browser_chain), /separators, /volumes/{id}/progress, /passport/documents/{n}/trace (browser_day-fr)');
}, { logTail: 3000 });
