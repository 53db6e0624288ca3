// Browser test of the auditor's provenance story (demo office): the trace
// of a registered record corrected once reads as a chain — person → birth
// record (each version, with what changed) → the scanned register page,
// shown as an image — in plain sentences with dates in the user's language
// ("Registered by registrar Amina Otieno on 5 Dec 2026 at 03:42": the full
// name signed with the account, the event's signed username kept beside
// it; the username when the account has no name), the record views folded away
// until opened, and a verified mark for every signature and inclusion
// proof. The same chain in French. Both pass the axe-core accessibility
// audit, and the French one holds no English text (tests/browser/audit.mjs).
// Screenshots: auditor-chain, auditor-chain-fr.
import assert from 'node:assert/strict';
import { axeAudit, axeAvailable, languageScan } from './audit.mjs';
import { apiCall, loadPlaywright, openBrowser, shot, signIn, skip, startServer } from './harness.mjs';

const playwright = await loadPlaywright();
if (!axeAvailable()) skip('axe-core is missing (install/deps.sh runs npm install in tests/)');
const server = await startServer([], { demo: true });
let b = null;
const more = [];
let failed = false;

// Every fold opened, so the audits read what an auditor can unfold.
async function audit(page, where, lang) {
  await page.evaluate(() => document.querySelectorAll('#chain details').forEach((d) => { d.open = true; }));
  if (lang === 'fr') await languageScan(page, where);
  await axeAudit(page, `${where} (${lang})`);
  await page.evaluate(() => document.querySelectorAll('#chain details').forEach((d) => { d.open = false; }));
}

try {
  b = await openBrowser(playwright);
  const page = b.page;
  await signIn(page, server.url, 'auditor', 'demo');
  // A registered record the registrar corrected: two versions.
  const id = await page.evaluate(async () => {
    const list = await (await fetch('/api/v1/records?status=registered&limit=100')).json();
    for (const r of list.records || list) {
      const one = await (await fetch('/api/v1/records/' + encodeURIComponent(r.id))).json();
      if (one.version === 2) return r.id;
    }
    return null;
  });
  assert.ok(id, 'the demo has a corrected record');
  // An auditor account made without a full name views the record: its
  // view is told with the username.
  const admin = await openBrowser(playwright);
  more.push(admin);
  await signIn(admin.page, server.url, 'admin', 'demo');
  const made = await apiCall(admin.page, 'POST', '/users', { username: 'inspector7', password: 'quartz lantern river tide', roles: ['auditor'] });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const listed = (await apiCall(admin.page, 'GET', '/users')).body.users;
  assert.equal(listed.find((u) => u.username === 'registrar').name, 'Amina Otieno');
  assert.equal(listed.find((u) => u.username === 'inspector7').name, undefined);
  const insp = await openBrowser(playwright);
  more.push(insp);
  await signIn(insp.page, server.url, 'inspector7', 'quartz lantern river tide');
  assert.equal((await apiCall(insp.page, 'GET', '/records/' + encodeURIComponent(id))).status, 200);
  const tr = await page.evaluate(async (x) => (await fetch('/api/v1/audit/trace/' + encodeURIComponent(x))).json(), id);
  const reg = tr.events.find((e) => e.type === 'record.register');
  assert.ok(reg);
  await page.goto(new URL(`/audit/${encodeURIComponent(id)}`, server.url).href);
  await page.waitForSelector('#chain');
  // The links, in order.
  assert.deepEqual(await page.$$eval('#chain > li', (l) => l.map((e) => e.id)), ['chain-person', 'chain-record', 'chain-page', 'chain-keys']);
  // Plain sentences: who (in which role), the date and the time (UTC).
  const d = new Date(reg.time);
  const date = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(d);
  const time = d.toISOString().slice(11, 16);
  const sentence = await page.textContent('#chain-record li.event[data-type="record.register"] .sentence');
  assert.equal(sentence, `Registered by registrar Amina Otieno on ${date} at ${time}`);
  // The name is the one the account's user.add signed: the signed username
  // of the event is kept beside it and the sentence says so.
  const regEvent = '#chain-record li.event[data-type="record.register"]';
  assert.equal(await page.getAttribute(`${regEvent} .sentence`, 'data-actor'), reg.actor);
  assert.equal(reg.actor, 'registrar');
  assert.equal(await page.getAttribute(`${regEvent} .sentence`, 'title'),
    'Amina Otieno: the full name signed when this account was created; the event records the account\'s user name, shown after its type.');
  assert.equal(await page.textContent(`${regEvent} code.account`), 'registrar');
  assert.match(await page.textContent('#chain-names'), /signed when each account was created/);
  assert.equal(tr.account_names.registrar, 'Amina Otieno');
  // ... and it is the name the registrar's user.add signed.
  const added = tr.events.find((e) => e.type === 'user.add' && e.data?.username === 'registrar');
  if (added) assert.equal(added.data.name, 'Amina Otieno');
  assert.match(await page.textContent('#chain-record li.event[data-type="record.draft"] .sentence'), /^Keyed by clerk Grace Wanjiru on \d{1,2} [A-Z][a-z]{2} \d{4} at \d{2}:\d{2}$/);
  assert.match(await page.textContent('#chain-record li.event[data-type="record.verify"] .sentence'), /^Verified blind by clerk Hélène Dubois on /);
  // No full name: the username, and no claim of a name.
  const view = page.locator('#chain-record li.event[data-type="record.view"] .sentence[data-actor="inspector7"]');
  assert.equal(await view.count(), 1);
  assert.match(await view.textContent(), /^Viewed by inspector7 on /);
  assert.equal(await view.getAttribute('title'), null);
  assert.match(await page.textContent('#chain-person'), new RegExp(`UIN ${tr.person.uin}, created from birth registration ${tr.person.registration_number.replace(/\//g, '\\/')}`));
  // Each version, with what changed: version 2 set the time of birth.
  assert.equal(await page.locator('#chain-record li.version').count(), 2);
  assert.match(await page.textContent('#chain-record li.version[data-version="2"]'), /time of birth misread from the register page/);
  assert.equal(await page.textContent('#chain-record li.version[data-version="2"] .changes li[data-field="birth.time"] ins'), '06:15');
  assert.equal(await page.locator('#chain-record li.version[data-version="2"] .changes li').count(), 1);
  // Record views folded away until asked for.
  assert.equal(await page.locator('details.record-fold[open]').count(), 0);
  assert.equal(await page.locator('.record-view').first().isVisible(), false);
  await page.click('#chain-record li.version[data-version="2"] summary');
  assert.equal(await page.locator('#chain-record li.version[data-version="2"] .record-view').isVisible(), true);
  assert.equal(await page.textContent('#chain-record li.version[data-version="2"] .record-view [data-field="birth.time"]'), '06:15');
  await page.click('#chain-record li.version[data-version="2"] summary');
  // The scanned register page as an image.
  await page.waitForFunction(() => document.querySelector('#chain-page figure img')?.naturalWidth > 0);
  assert.equal(await page.getAttribute('#chain-page figure', 'data-hash'), tr.evidence[0].hash);
  // Every signature and proof verified, as the summary says.
  const events = await page.locator('#chain li.event').count();
  assert.ok(events >= tr.events.length); // each view of the trace is itself logged
  const checks = await page.$$eval('#chain [data-check]', (l) => l.map((e) => e.dataset.ok));
  assert.equal(checks.length, 2 * events);
  assert.ok(checks.every((x) => x === 'true'), checks.join());
  assert.match(await page.textContent('#trace-summary'), new RegExp(`^All ${events} events verified`));
  await shot(page, 'auditor-chain');
  await audit(page, `/audit/${id}`, 'en');

  // In French: the same chain, the dates in French.
  await page.selectOption('#lang', 'fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr' && document.querySelector('#chain'));
  const fr = new Intl.DateTimeFormat('fr', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(d);
  assert.equal(await page.textContent('#chain-record li.event[data-type="record.register"] .sentence'),
    `Enregistré par officier d’état civil Amina Otieno le ${fr} à ${time}`);
  assert.match(await page.textContent('#chain-record li.version[data-version="2"]'), /faite par Amina Otieno le/);
  await shot(page, 'auditor-chain-fr');
  await audit(page, `/audit/${id}`, 'fr');
  assert.deepEqual(b.problems, []);
  console.log('ok: the auditor reads the provenance chain');
} catch (e) {
  failed = true;
  console.error(e);
  console.error(server.log.join('').slice(-2000));
} finally {
  if (b) await b.close();
  for (const x of more) await x.close();
  await server.stop();
}
process.exit(failed ? 1 : 0);
