// Browser test of the whole keying chain on a demo office: clerk A drafts a
// record, clerk B verifies it blind (first with a mismatch, then agreeing),
// the registrar registers it, the auditor opens its trace and sees every
// step verified. Each step is a different browser profile (own cookies);
// screenshots are written as test artifacts.
import assert from 'node:assert/strict';
import { assertNoProblems, demoOffice, fillRecord, keyBlind, loadPlaywright, screenshot } from './harness.mjs';

const playwright = await loadPlaywright();
const office = await demoOffice(playwright);
const { server, user, open } = office;

await office.run(async () => {
  // Clerk A keys a new record; names in three scripts, one with markup.
  const a = await user('clerk');
  await screenshot(a.page, 'flow-1-clerk-home');
  await a.page.goto(new URL('/records/new', server.url).href);
  await a.page.waitForSelector('#draft-form');
  const example = await a.page.evaluate(async () => (await fetch('/api/v1/records/example')).json());
  const record = structuredClone(example);
  record.child.given_names = "ليلى <img src=x onerror=alert(1)> Zoé";
  record.child.family_name = 'Øvergaard-Иванова';
  record.mother.given_names = 'مريم';
  await fillRecord(a.page, record);
  // The scan of the register page, uploaded beside the form.
  await a.page.setInputFiles('#scan-file', new URL('../../web/demo/register-page.png', import.meta.url).pathname);
  await a.page.waitForSelector('#scans figure img');
  const scanHash = await a.page.getAttribute('#scans figure', 'data-hash');
  assert.match(scanHash, /^[0-9a-f]{64}$/);
  await screenshot(a.page, 'flow-2-draft-form');
  await a.page.click('#save-draft');
  await a.page.waitForURL((u) => /\/records\/[^/]+$/.test(u.pathname) && !u.pathname.endsWith('/new'));
  const id = decodeURIComponent(new URL(a.page.url()).pathname.split('/')[2]);
  await a.page.waitForSelector('#record-status');
  assert.equal(await a.page.textContent('#record-status'), 'draft');
  // The evidence is shown beside the record and loads as an image.
  await a.page.waitForFunction(() => document.querySelector('#evidence img')?.naturalWidth > 0);
  // The name is shown as text, right to left where Arabic, never as markup.
  const shown = await a.page.textContent('h1 bdi');
  assert.equal(shown, "ليلى <img src=x onerror=alert(1)> Zoé Øvergaard-Иванова");
  assert.equal(await a.page.locator("#app img:not(figure img)").count(), 0);
  assert.equal(await a.page.getAttribute('h1 bdi', 'dir'), 'auto');
  // Right to left: the name starts with an Arabic letter. Its cell in the
  // record view, starting with the Latin family name's section, stays left
  // to right in the English page.
  const dirs = await a.page.evaluate(() => {
    const d = (el) => getComputedStyle(el).direction;
    return { title: d(document.querySelector('h1 bdi')), page: d(document.body),
             mother: d(document.querySelector('[data-field="mother.given_names"]')),
             family: d(document.querySelector('[data-field="child.family_name"]')) };
  });
  assert.deepEqual(dirs, { title: 'rtl', page: 'ltr', mother: 'rtl', family: 'ltr' });
  await screenshot(a.page, 'flow-3-draft-view');
  // The clerk who keyed it cannot verify it.
  const self = await a.page.evaluate(async ([rid, rec]) => {
    const csrf = (await (await fetch('/api/v1/session')).json()).csrf_token;
    const r = await fetch(`/api/v1/records/${encodeURIComponent(rid)}/verify`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ record: rec }) });
    return r.status;
  }, [id, record]);
  assert.ok(self >= 400 && self < 500, `self-verification answered ${self}`);

  // Clerk B re-keys blind: first with a different family name.
  const b = await user('clerk2');
  await b.page.goto(new URL(`/records/${encodeURIComponent(id)}/verify`, server.url).href);
  // Blind: the form starts empty, beside it the scan, not the first keying.
  await keyBlind(b.page, record, 'Overgaard-Ivanova');
  await b.page.waitForFunction(() => document.querySelector('#mismatches') || document.querySelector('#form-error')?.textContent);
  assert.equal(await b.page.textContent('#form-error'), '');
  const row = b.page.locator('#mismatches tr[data-field="child.family_name"]');
  assert.equal(await row.count(), 1);
  await screenshot(b.page, 'flow-4-verify-mismatch');
  await fillRecord(b.page, record);
  await b.page.click('#submit-verify');
  await b.page.waitForFunction(() => document.querySelector('#verified') || document.querySelector('#form-error')?.textContent);
  assert.equal(await b.page.evaluate(() => document.querySelector('#form-error')?.textContent || ''), '');
  assert.equal(await b.page.locator('#verified').count(), 1);
  await screenshot(b.page, 'flow-5-verified');

  // The registrar registers it.
  const r = await user('registrar');
  await r.page.goto(new URL(`/records/${encodeURIComponent(id)}`, server.url).href);
  await r.page.waitForSelector('#register');
  await r.page.click('#register');
  await r.page.waitForFunction(() => document.querySelector('#record-status')?.textContent === 'registered');
  const regno = await r.page.textContent('#regno');
  assert.match(regno, /^DEMO\/\d{4}\/\d{6}$/);
  await screenshot(r.page, 'flow-6-registered');

  // The auditor traces it: every signature and inclusion proof verified.
  const au = await user('auditor');
  await au.page.goto(new URL(`/audit/${encodeURIComponent(id)}`, server.url).href);
  await au.page.waitForFunction(() => document.querySelector('#chain') || document.querySelector('#app > .error'));
  assert.equal(await au.page.evaluate(() => document.querySelector('#app > .error')?.textContent || ''), '');
  const types = await au.page.locator('#chain .event').evaluateAll((els) => els.map((e) => e.dataset.type));
  for (const step of ['record.draft', 'record.verify', 'record.register'])
    assert.ok(types.includes(step), `trace lacks ${step}: ${types}`);
  const checks = await au.page.locator('#chain [data-check]').evaluateAll((els) => els.map((e) => e.dataset.ok));
  assert.ok(checks.length >= 2 * types.length);
  assert.ok(checks.every((ok) => ok === 'true'), `some checks failed: ${checks}`);
  assert.match(await au.page.textContent('#trace-summary'), /verified/);
  await screenshot(au.page, 'flow-7-auditor-trace');
  // The bundle downloads.
  const [download] = await Promise.all([au.page.waitForEvent('download'), au.page.click('#bundle')]);
  assert.match(download.suggestedFilename(), /^civreg-bundle-.*\.json$/);

  // Sign-out ends the session: the API refuses the old cookie.
  await au.page.click('#signout');
  await au.page.waitForURL(/\/signin$/);
  const after = await au.page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(after, 401);

  assertNoProblems(open);
  console.log('ok: draft -> verify -> register -> trace');
}, { logTail: 4000 });
