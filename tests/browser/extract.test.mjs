// Browser test of certified extracts printed from the browser (demo office
// with its PKI): the registrar opens a registered record, sees the preview,
// issues the extract (a sealed PDF the browser downloads to print); a second
// extract is a reprint: refused in the page without a reason, issued with
// one, and the reason is listed. A clerk may print; an enrolment officer is
// refused. The first page of the PDF is rendered (pdftoppm) as a screenshot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoProblems, demoOffice, loadPlaywright, screenshots, shot } from './harness.mjs';

const playwright = await loadPlaywright();
const office = await demoOffice(playwright);
const { server, url, user, open } = office;

await office.run(async () => {
  const reg = await user('registrar');
  const list = await reg.page.evaluate(async () => (await fetch('/api/v1/records?status=registered&limit=1')).json());
  const one = (list.records || list)[0];
  await reg.page.goto(url('/records/' + encodeURIComponent(one.id)));
  await reg.page.click('#go-extract');
  await reg.page.waitForSelector('#extract-preview');
  assert.match(await reg.page.textContent('#extract-preview'), new RegExp(one.family_name));
  assert.equal(await reg.page.locator('#extract-reason').count(), 0); // a first print needs no reason
  await shot(reg.page, 'extract-print-preview');
  const [dl] = await Promise.all([reg.page.waitForEvent('download'), reg.page.click('#extract-print')]).catch(async (e) => {
    throw new Error(`${e.message}: ${await reg.page.textContent('#extract-form')}`);
  });
  assert.match(dl.suggestedFilename(), /^extract-.*\.pdf$/);
  const pdfPath = join(screenshots, 'extract.pdf');
  await dl.saveAs(pdfPath);
  assert.equal(readFileSync(pdfPath).subarray(0, 5).toString(), '%PDF-');
  await reg.page.waitForSelector('#extract-issued');
  // The PDF as it prints: its first page as a picture beside the screenshots.
  if (existsSync('/usr/bin/pdftoppm')) {
    const r = spawnSync('/usr/bin/pdftoppm', ['-r', '60', '-png', '-singlefile', pdfPath, join(screenshots, 'extract-pdf')]);
    assert.equal(r.status, 0, String(r.stderr));
  }

  // A reprint: the reason is required, in the page and by the server.
  await reg.page.reload();
  await reg.page.waitForSelector('#extract-reason');
  assert.equal(await reg.page.locator('#extract-history li').count(), 1);
  let posted = 0;
  reg.page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().includes('/extracts')) posted++;
  });
  await reg.page.click('#extract-print');
  await reg.page.waitForFunction(() => document.querySelector('#extract-reason-error')?.textContent !== '');
  assert.equal(posted, 0);
  const refused = await reg.page.evaluate(async (id) => {
    const csrf = document.querySelector('meta[name="civreg-csrf"]').content;
    const r = await fetch(`/api/v1/records/${encodeURIComponent(id)}/extracts`, { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: '{}' });
    return { status: r.status, code: (await r.json()).error.code };
  }, one.id);
  assert.deepEqual(refused, { status: 422, code: 'reason_required' });
  await reg.page.fill('#extract-reason', 'the first copy was damaged');
  const [dl2] = await Promise.all([reg.page.waitForEvent('download'), reg.page.click('#extract-print')]);
  assert.match(dl2.suggestedFilename(), /^extract-.*\.pdf$/);
  const after = await reg.page.evaluate(async (id) => (await fetch(`/api/v1/records/${encodeURIComponent(id)}/extracts`)).json(), one.id);
  assert.equal(after.extracts.length, 2);
  assert.equal(after.extracts[1].reason, 'the first copy was damaged');

  // A clerk may print; an enrolment officer may not (no button, 403).
  const clerk = await user('clerk');
  await clerk.page.goto(url('/records/' + encodeURIComponent(one.id)));
  await clerk.page.waitForSelector('#go-extract');
  const enrol = await user('enrol');
  await enrol.page.goto(url('/records/' + encodeURIComponent(one.id)));
  await enrol.page.waitForSelector('#record-status');
  assert.equal(await enrol.page.locator('#go-extract').count(), 0);
  const st = await enrol.page.evaluate(async (id) => {
    const csrf = document.querySelector('meta[name="civreg-csrf"]').content;
    return (await fetch(`/api/v1/records/${encodeURIComponent(id)}/extracts`, { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: '{}' })).status;
  }, one.id);
  assert.equal(st, 403);

  assertNoProblems(open);
  console.log('ok: extract preview, print, reprint with reason');
}, { logTail: 3000 });
