// Browser test of digitization on a demo office: the clerk uploads a batch
// (a separator sheet printed by `civreg scan separator` and rasterized by
// poppler's pdftoppm, a register page, and a text file named .png), sees
// per-file progress and the import summary, opens the new volume and its
// page, keys a record beside the page image (zoom and rotate), and a second
// clerk verifies it blind. Screenshots keying-1 … keying-6 are artifacts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoProblems, demoOffice, fillRecord, loadPlaywright, screenshot, shot } from './harness.mjs';

const playwright = await loadPlaywright();
if (spawnSync('pdftoppm', ['-v']).error) {
  console.log('SKIP: pdftoppm is missing (install/deps.sh installs poppler-utils)');
  process.exit(77);
}
const office = await demoOffice(playwright);
const { server, user, open } = office;

await office.run(async () => {
  // The scans: a separator sheet for DEMO/1987/volume 3, then a page.
  const pdf = join(server.dir, 'separator.pdf');
  const sep = spawnSync(process.env.CIVREG_BIN, ['scan', 'separator', '--office', 'DEMO', '--year', '1987',
    '--volume', '3', '--out', pdf], { encoding: 'utf8' });
  assert.equal(sep.status, 0, sep.stderr);
  const ppm = spawnSync('pdftoppm', ['-r', '150', '-png', '-singlefile', pdf, join(server.dir, '01-separator')]);
  assert.equal(ppm.status, 0, String(ppm.stderr));
  const page = new URL('../../web/demo/register-page.png', import.meta.url).pathname;
  const broken = join(server.dir, '03-broken.png');
  writeFileSync(broken, 'this is not a scan\n');

  const a = await user('clerk');
  await a.page.goto(new URL('/scans/upload', server.url).href);
  await a.page.waitForSelector('#upload-form');
  await a.page.setInputFiles('#upload-files', [join(server.dir, '01-separator.png'), page, broken]);
  await a.page.click('#upload-start');
  await a.page.waitForSelector('#import-result');
  // One progress bar per file: complete for the scans, an error for the text.
  const rows = await a.page.locator('#upload-list li').evaluateAll((els) => els.map((e) => ({
    file: e.dataset.file, value: e.querySelector('progress')?.value,
    error: e.querySelector('.upload-state').classList.contains('error') })));
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => r.error), [false, false, true]);
  assert.equal(rows[0].value, 1);
  assert.equal(rows[1].value, 1);
  assert.match(await a.page.textContent('#import-result'),
    /^2 pages added \(1 separator sheets, \d+ flagged\) in 1 volumes; 0 pages already imported; 1 files failed\.$/);
  assert.equal(await a.page.textContent('#upload-summary'), (await a.page.textContent('#import-result')) + (await a.page.textContent('#to-volumes')));
  await screenshot(a.page, 'keying-1-upload');

  // The volume list, the volume's pages.
  await a.page.click('#to-volumes');
  await a.page.waitForSelector('#volumes tr[data-volume="DEMO|1987|3"]');
  await screenshot(a.page, 'keying-2-volumes');
  await a.page.click('#volumes tr[data-volume="DEMO|1987|3"] a');
  await a.page.waitForSelector('#pages figure[data-number="1"]');
  await a.page.waitForFunction(() => [...document.querySelectorAll('#pages img')].every((i) => i.complete && i.naturalWidth > 0));
  await screenshot(a.page, 'keying-3-volume');

  // Keying from page 1: the register reference comes from the page.
  await a.page.click('#pages figure[data-number="1"] .key-link');
  await a.page.waitForSelector('#draft-form');
  await a.page.waitForFunction(() => document.querySelector('#page-image')?.naturalWidth > 0);
  assert.equal(await a.page.inputValue('#f-register-office'), 'DEMO');
  assert.equal(await a.page.inputValue('#f-register-year'), '1987');
  assert.equal(await a.page.inputValue('#f-register-volume'), '3');
  assert.equal(await a.page.inputValue('#f-register-page'), '1');
  assert.equal(await a.page.evaluate(() => document.querySelector('#f-register-office').readOnly), true);
  // The page number is the register's: the scan's position is a suggestion
  // the clerk corrects (this sheet is printed "Page 42").
  assert.equal(await a.page.evaluate(() => document.querySelector('#f-register-page').readOnly), false);
  assert.match(await a.page.textContent('#register-page-hint'), /1/);
  // Zoom, rotate, pan.
  await a.page.click('#zoom-in');
  await a.page.click('#rotate-right');
  const stage = await a.page.locator('#page-stage').boundingBox();
  await a.page.mouse.move(stage.x + 100, stage.y + 100);
  await a.page.mouse.down();
  await a.page.mouse.move(stage.x + 160, stage.y + 130);
  await a.page.mouse.up();
  const view = await a.page.evaluate(() => ({
    zoom: document.querySelector('#page-stage').dataset.zoom,
    rotation: document.querySelector('#page-stage').dataset.rotation,
    transform: document.querySelector('#page-image').style.transform }));
  assert.equal(view.zoom, '1.25');
  assert.equal(view.rotation, '90');
  assert.match(view.transform, /translate\(60px, 30px\) rotate\(90deg\) scale\(1\.25\)/);
  const pageId = decodeURIComponent(new URL(a.page.url()).pathname.split('/')[2]);
  const pageMeta = await a.page.evaluate(async (id) => (await fetch(`/api/v1/pages/${encodeURIComponent(id)}`)).json(), pageId);

  const example = await a.page.evaluate(async () => (await fetch('/api/v1/records/example')).json());
  const record = structuredClone(example);
  record.child.given_names = 'Awa';
  record.child.family_name = 'Ndiaye';
  record.register = { office: 'DEMO', year: 1987, volume: '3', page: 42, entry: 4 };
  const keyed = structuredClone(record);
  keyed.register = { page: 42, entry: 4 }; // the rest is filled from the page
  await fillRecord(a.page, keyed);
  await screenshot(a.page, 'keying-4-keying');
  await shot(a.page, 'keying-screen');
  await a.page.click('#save-draft');
  await a.page.waitForURL((u) => /\/records\/[^/]+$/.test(u.pathname));
  const id = decodeURIComponent(new URL(a.page.url()).pathname.split('/')[2]);
  await a.page.waitForSelector('#record-status');
  assert.equal(await a.page.textContent('#record-status'), 'draft');
  const saved = await a.page.evaluate(async (rid) => (await fetch(`/api/v1/records/${encodeURIComponent(rid)}`)).json(), id);
  assert.deepEqual(saved.record.register, record.register);
  assert.deepEqual(saved.record.evidence, [pageMeta.file_hash]);
  await screenshot(a.page, 'keying-5-draft');

  // A second clerk verifies it blind, from the same page scan.
  const b = await user('clerk2');
  await b.page.goto(new URL(`/records/${encodeURIComponent(id)}/verify`, server.url).href);
  await b.page.waitForSelector('#verify-form');
  assert.equal(await b.page.inputValue('#f-child-given_names'), '');
  assert.equal(await b.page.getAttribute('#evidence-panel figure', 'data-hash'), pageMeta.file_hash);
  await b.page.waitForFunction(() => document.querySelector('#evidence-panel img')?.naturalWidth > 0);
  await fillRecord(b.page, record);
  await b.page.click('#submit-verify');
  await b.page.waitForFunction(() => document.querySelector('#verified') || document.querySelector('#form-error')?.textContent);
  assert.equal(await b.page.evaluate(() => document.querySelector('#form-error')?.textContent || ''), '');
  await screenshot(b.page, 'keying-6-verified');

  assertNoProblems(open, '401|403|409|415|422');
  console.log('ok: upload -> volume -> keying -> blind verification');
}, { logTail: 4000 });
