// Browser test of separator sheets printed from the browser and of the
// keying progress of a volume (demo office). A clerk chooses two volumes,
// previews the sheets (fields and Code 128 bars), prints the PDF; the first
// page of that PDF, rasterized by pdftoppm, is uploaded before two register
// pages and the scanner starts the volume from its barcode. Entries keyed
// on page 1 (one verified blind by a second clerk, then registered) show in
// the volume's progress per page, and the clerk's home counts the pages
// still to key with a link to the progress. An auditor may read the
// progress but not print sheets; bad sheet requests are refused (422) with
// the catalogue's message. Screenshots: separators-preview, volume-progress.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlaywright, screenshots, shot, assertNoProblems, demoOffice } from './harness.mjs';

const playwright = await loadPlaywright();
if (spawnSync('pdftoppm', ['-v']).error) {
  console.log('SKIP: pdftoppm is missing (install/deps.sh installs poppler-utils)');
  process.exit(77);
}
const office = await demoOffice(playwright);
const { server, open } = office;
const url = (p) => new URL(p, server.url).href;

async function user(name) {
  const b = await office.user(name);
  return b;
}

// METHOD PATH (under /api/v1) with BODY from the page (its session, CSRF).
function call(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = document.querySelector('meta[name="civreg-csrf"]').content;
    const r = await fetch('/api/v1' + p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: b === undefined ? undefined : JSON.stringify(b) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: r.status, body: json };
  }, [method, path, body]);
}

await office.run(async () => {
  const clerk = await user('clerk');
  // The clerk's home offers separator sheets.
  await clerk.page.click('#roles a[href="/separators"]');
  await clerk.page.waitForSelector('#sep-form');
  assert.equal(await clerk.page.inputValue('#sep-office'), 'DEMO');
  assert.equal(await clerk.page.inputValue('#sep-year'), String(new Date().getUTCFullYear()));
  assert.deepEqual((await call(clerk.page, 'GET', '/separators')).body,
    { sheets: [], office: 'DEMO', year: new Date().getUTCFullYear() });
  // Several sheets need a numbered volume: refused with the catalogue's text.
  await clerk.page.fill('#sep-year', '1987');
  await clerk.page.fill('#sep-volume', 'B');
  await clerk.page.fill('#sep-count', '2');
  await clerk.page.click('#sep-preview');
  await clerk.page.waitForFunction(() => document.querySelector('#sep-error').textContent !== '');
  assert.match(await clerk.page.textContent('#sep-error'), /^These sheets cannot be printed/);
  assert.equal(await clerk.page.locator('#sep-print').isDisabled(), true);
  // Volumes 7 and 8 of 1987.
  await clerk.page.fill('#sep-volume', '7');
  await clerk.page.click('#sep-preview');
  await clerk.page.waitForSelector('.sep-sheet >> nth=1');
  const payloads = await clerk.page.$$eval('.sep-sheet', (l) => l.map((e) => e.dataset.payload));
  assert.deepEqual(payloads, ['CRVS1|DEMO|1987|7', 'CRVS1|DEMO|1987|8']);
  assert.ok(await clerk.page.locator('.sep-sheet svg rect').count() > 20);
  await shot(clerk.page, 'separators-preview');
  const [dl] = await Promise.all([clerk.page.waitForEvent('download'), clerk.page.click('#sep-print')]);
  assert.equal(dl.suggestedFilename(), 'separator-DEMO-1987-7.pdf');
  const pdf = join(server.dir, 'sheets.pdf');
  await dl.saveAs(pdf);
  assert.equal(readFileSync(pdf).subarray(0, 5).toString(), '%PDF-');
  await clerk.page.waitForSelector('#sep-printed');
  const info = spawnSync('pdfinfo', [pdf], { encoding: 'utf8' });
  if (!info.error) assert.match(info.stdout, /Pages:\s+2/);
  // Its first page, as the scanner will see it (page 1 of the PDF: volume 7).
  const r = spawnSync('pdftoppm', ['-r', '150', '-png', '-f', '1', '-l', '1', '-singlefile', pdf, join(server.dir, '00-separator')]);
  assert.equal(r.status, 0, String(r.stderr));
  spawnSync('pdftoppm', ['-r', '50', '-png', '-f', '1', '-l', '1', '-singlefile', pdf, join(screenshots, 'separator-pdf')]);

  // The batch: the printed sheet, then two register pages.
  const png = readFileSync(new URL('../../web/demo/register-page.png', import.meta.url));
  const page2 = join(server.dir, '02-page.png');
  writeFileSync(page2, Buffer.concat([png, Buffer.from('second page')])); // other bytes, same picture
  await clerk.page.goto(url('/scans/upload'));
  await clerk.page.waitForSelector('#upload-form');
  await clerk.page.setInputFiles('#upload-files', [join(server.dir, '00-separator.png'),
    new URL('../../web/demo/register-page.png', import.meta.url).pathname, page2]);
  await clerk.page.click('#upload-start');
  await clerk.page.waitForSelector('#import-result');
  const vol = 'DEMO|1987|7';
  const volumes = await call(clerk.page, 'GET', '/volumes');
  assert.ok(volumes.body.volumes.some((v) => v.id === vol), JSON.stringify(volumes.body));

  // Nothing keyed yet: both pages are to key.
  let p = await call(clerk.page, 'GET', `/volumes/${encodeURIComponent(vol)}/progress`);
  assert.equal(p.status, 200);
  assert.deepEqual(p.body.totals, { pages: 2, pages_keyed: 0, pages_to_key: 2, keyed: 0, verified: 0, registered: 0 });

  // Three entries keyed on page 1 and one on register page 9 (no such scan).
  const example = (await call(clerk.page, 'GET', '/records/example')).body;
  const ids = [];
  for (const [entry, pg] of [[1, 1], [2, 1], [3, 1], [1, 9]]) {
    const rec = structuredClone(example);
    rec.child.given_names = `Progressa-${entry}-${pg}`;
    rec.child.family_name = 'Volumière';
    rec.register = { office: 'DEMO', year: 1987, volume: '7', page: pg, entry };
    const made = await call(clerk.page, 'POST', '/records', { record: rec });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    ids.push([made.body.id, rec]);
  }
  // One verified blind by clerk2, then registered.
  const clerk2 = await user('clerk2');
  const v = await call(clerk2.page, 'POST', `/records/${encodeURIComponent(ids[0][0])}/verify`, { record: ids[0][1] });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  const registrar = await user('registrar');
  const dups = await call(registrar.page, 'GET', `/records/${encodeURIComponent(ids[0][0])}/duplicates`);
  for (const d of dups.body.candidates || []) {
    if (d.status !== 'open') continue;
    await call(registrar.page, 'POST', `/records/${encodeURIComponent(d.record_id)}/duplicates/${encodeURIComponent(d.other_id)}`,
      { decision: 'distinct', reason: 'different children on the same page' });
  }
  const reg = await call(registrar.page, 'POST', `/records/${encodeURIComponent(ids[0][0])}/register`, {});
  assert.equal(reg.status, 200, JSON.stringify(reg.body));

  // The clerk's home: one page left to key in volume 7, linked to its progress.
  await clerk.page.goto(server.url);
  await clerk.page.waitForSelector(`#queue-to-key li[data-volume="${vol}"] a`);
  assert.equal(await clerk.page.getAttribute('#queue-to-key', 'data-count'), '1');
  assert.match(await clerk.page.textContent(`#queue-to-key li[data-volume="${vol}"]`), /DEMO 1987 7: 1 of 2 pages to key/);
  await shot(clerk.page, 'home-clerk');
  await clerk.page.click(`#queue-to-key li[data-volume="${vol}"] a`);
  await clerk.page.waitForSelector('#progress tbody tr');
  const rows = await clerk.page.$$eval('#progress tbody tr', (l) => l.map((e) => [e.dataset.page,
    e.querySelector('.n-keyed').textContent, e.querySelector('.n-verified').textContent.trim(),
    e.querySelector('.n-registered').textContent.trim(), e.classList.contains('to-key')]));
  assert.deepEqual(rows, [['1', '3', '1', '1', false], ['2', '0', '0', '0', true]]);
  assert.deepEqual(await clerk.page.$$eval('#progress-other tbody tr', (l) => l.map((e) => e.dataset.page)), ['9']);
  assert.match(await clerk.page.textContent('#progress-totals'), /^2 pages: 1 with entries keyed, 1 to key · 4 entries keyed, 1 verified, 1 registered\.$/);
  // The page still to key opens the keying screen.
  assert.equal(await clerk.page.locator('#progress tr[data-page="2"] a.key-link').count(), 1);
  await shot(clerk.page, 'volume-progress');
  // From the volume list too.
  await clerk.page.goto(url('/volumes'));
  await clerk.page.click(`#volumes tr[data-volume="${vol}"] a.progress-link`);
  await clerk.page.waitForSelector('#progress');

  // The auditor reads the progress but prints no sheets (no link, 403).
  const auditor = await user('auditor');
  p = await call(auditor.page, 'GET', `/volumes/${encodeURIComponent(vol)}/progress`);
  assert.equal(p.status, 200);
  assert.equal(p.body.totals.keyed, 4);
  assert.equal(await auditor.page.locator('#roles a[href="/separators"]').count(), 0);
  assert.equal((await call(auditor.page, 'POST', '/separators', { year: 1987, volume: '9' })).status, 403);
  assert.equal((await call(auditor.page, 'GET', '/separators?year=1987&volume=9')).status, 403);
  // Bad requests: a clear 4xx, never a PDF.
  for (const [body, status] of [[{ year: 87, volume: '1' }, 422], [{ year: 1987, volume: '' }, 422],
    [{ year: 1987, volume: '1', count: 51 }, 422], [{ year: 1987, volume: '999999999999', count: 2 }, 422],
    [{ year: 1987, volume: 'x'.repeat(13) }, 422], [{ year: '1987', volume: '1' }, 400], [{ year: 1987, volume: '1', pages: 3 }, 400]]) {
    const res = await call(clerk.page, 'POST', '/separators', body);
    assert.equal(res.status, status, JSON.stringify([body, res.body]));
  }
  assert.equal((await call(clerk.page, 'GET', `/volumes/${encodeURIComponent('DEMO|1987|404')}/progress`)).status, 404);

  assertNoProblems(open, '400|401|403|404|409|422');
  console.log('ok: separator sheets printed from the browser; keying progress per page');
}, { logTail: 3000 });
