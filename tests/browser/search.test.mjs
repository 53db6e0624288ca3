// Browser test of the search box and the duplicate comparison screen on a
// demo office: a clerk keys the same birth twice (through the API), finds it
// by typing a name in the top bar's search box, and the registrar opens the
// second record, sees the first as a possible duplicate, compares the two
// side by side and resolves the pair as two births with a reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertNoProblems, demoOffice, loadPlaywright, screenshot } from './harness.mjs';

const playwright = await loadPlaywright();
const office = await demoOffice(playwright);
const { server, user, open } = office;

async function call(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = (await (await fetch('/api/v1/session')).json()).csrf_token;
    const r = await fetch('/api/v1' + p, { method: m, headers: { 'Content-Type': 'application/json',
      'X-CSRF-Token': csrf }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, body: await r.json() };
  }, [method, path, body]);
}

await office.run(async () => {
  const c = await user('clerk');
  const example = await c.page.evaluate(async () => (await fetch('/api/v1/records/example')).json());
  const record = structuredClone(example);
  record.child.given_names = 'Séraphine';
  record.child.family_name = 'Quennell-Abadie <b>x</b>';
  // The first record is keyed with the register page's scan as evidence;
  // the second differs in the time of birth only.
  const png = readFileSync(new URL('../../web/demo/register-page.png', import.meta.url)).toString('base64');
  const scanHash = await c.page.evaluate(async (b64) => {
    const csrf = (await (await fetch('/api/v1/session')).json()).csrf_token;
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const r = await fetch('/api/v1/evidence', { method: 'POST', headers: { 'Content-Type': 'image/png',
      'X-CSRF-Token': csrf }, body: new Blob([bytes], { type: 'image/png' }) });
    return (await r.json()).hash;
  }, png);
  assert.match(scanHash, /^[0-9a-f]{64}$/);
  const first = await call(c.page, 'POST', '/records', { record: { ...record, evidence: [scanHash] } });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const other = structuredClone(record);
  other.birth.time = '15:45';
  const second = await call(c.page, 'POST', '/records', { record: other });
  assert.equal(second.status, 201, JSON.stringify(second.body));
  const [id1, id2] = [first.body.id, second.body.id];

  // The search box is in the top bar of every screen; the name is typed
  // without its accent and the results list both records, escaped.
  await c.page.goto(new URL('/records', server.url).href);
  await c.page.waitForSelector('#search-q');
  await c.page.fill('#search-q', 'seraphine quennell');
  await Promise.all([c.page.waitForURL((u) => u.pathname === '/search'), c.page.press('#search-q', 'Enter')]);
  await c.page.waitForSelector('#search-results, #search-none');
  const ids = await c.page.locator('#search-results li').evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.ok(ids.includes(id1) && ids.includes(id2), `results ${ids} lack ${id1} or ${id2}`);
  const link = c.page.locator(`#search-results li[data-id="${id1}"] a`);
  assert.equal(await link.textContent(), 'Séraphine Quennell-Abadie <b>x</b>');
  assert.equal(await c.page.locator('#search-results b').count(), 0);
  assert.equal(await c.page.getAttribute(`#search-results li[data-id="${id1}"] a bdi`, 'dir'), 'auto');
  assert.equal(await c.page.inputValue('#search-q'), 'seraphine quennell');
  await screenshot(c.page, 'search-1-results');
  await link.click();
  await c.page.waitForURL((u) => u.pathname === `/records/${encodeURIComponent(id1)}`);
  await c.page.waitForSelector('#record-status');

  // The French page has the search box too.
  await call(c.page, 'PATCH', '/session', { lang: 'fr' });
  await c.page.goto(new URL('/search', server.url).href);
  await c.page.waitForSelector('#search-empty');
  assert.equal(await c.page.textContent('#search-go'), 'Rechercher');

  // The registrar compares the pair and resolves it as two births.
  const r = await user('registrar');
  await r.page.goto(new URL(`/records/${encodeURIComponent(id2)}`, server.url).href);
  await r.page.waitForSelector(`#duplicates li[data-other="${id1}"]`);
  assert.equal(await r.page.getAttribute(`#duplicates li[data-other="${id1}"]`, 'data-status'), 'open');
  await screenshot(r.page, 'search-2-record-duplicates');
  await r.page.click(`#duplicates li[data-other="${id1}"] a.compare-link`);
  await r.page.waitForSelector('#compare');
  assert.equal(await r.page.getAttribute('#pair-status', 'data-status'), 'open');
  // The same data keyed twice: the family name does not differ; each record
  // has its scans column.
  const row = r.page.locator('#compare tr[data-field="child.family_name"]');
  assert.equal(await row.getAttribute('data-differs'), 'false');
  assert.equal(await row.locator('td').first().textContent(), 'Quennell-Abadie <b>x</b>');
  assert.equal(await r.page.getAttribute('#compare tr[data-field="birth.time"]', 'data-differs'), 'true');
  assert.equal(await r.page.locator('#compare tr.differs').count(), 1);
  // The second record (this page's) is on the left; the first one's scan
  // loads on the right.
  await r.page.waitForFunction((hash) =>
    document.querySelector(`#scans-b figure[data-hash="${hash}"] img`)?.naturalWidth > 0, scanHash);
  assert.equal(await r.page.locator('#scans-a figure').count(), 0);
  // A reason is required before anything is posted.
  await r.page.click('#dup-distinct');
  assert.notEqual(await r.page.textContent('#dup-error'), '');
  assert.equal(await r.page.getAttribute('#pair-status', 'data-status'), 'open');
  await screenshot(r.page, 'search-3-compare');
  await r.page.fill('#dup-reason', 'Twins keyed from two register entries');
  await r.page.click('#dup-distinct');
  await r.page.waitForFunction(() => document.querySelector('#pair-status')?.dataset.status === 'distinct');
  assert.match(await r.page.textContent('#pair-resolved'), /Twins keyed from two register entries/);
  assert.equal(await r.page.locator('#dup-resolve').count(), 0);
  await screenshot(r.page, 'search-4-resolved');
  // The API agrees.
  const dups = await call(r.page, 'GET', `/records/${encodeURIComponent(id2)}/duplicates`);
  const pair = dups.body.candidates.find((x) => [x.record_id, x.other_id].includes(id1));
  assert.equal(pair.status, 'distinct');
  assert.equal(pair.reason, 'Twins keyed from two register entries');

  // A clerk sees the comparison but no resolve buttons.
  await c.page.goto(new URL(`/records/${encodeURIComponent(id2)}/duplicates/${encodeURIComponent(id1)}`, server.url).href);
  await c.page.waitForSelector('#compare');
  assert.equal(await c.page.locator('#dup-resolve').count(), 0);

  assertNoProblems(open);
  console.log('ok: search box -> results; duplicate -> compare -> resolved');
}, { logTail: 4000, onFailure: async (browsers) => {
    for (const b of browsers) await screenshot(b.page, 'search-failure-' + browsers.indexOf(b)).catch(() => {});
  } });
