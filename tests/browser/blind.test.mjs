// Browser test of blind double entry and the clerks' work queues on a demo
// office. Clerk A keys a draft (through the API, with the register-page
// scan as evidence). A is never offered to verify it: not in A's queue, no
// Verify button, the verify screen says why. Clerk B finds it in "to
// verify", keys it from the page: everything B's browser receives is
// recorded, and not one answer carries a value of A's keying (checked on
// the wire); a disagreement names the field only, empties it and marks it;
// a second disagreement sends the record back to A, whose home lists it
// with the field named. B's record view of the draft withholds its values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertNoProblems, demoOffice, keyBlind, loadPlaywright, screenshot, shot } from './harness.mjs';

const playwright = await loadPlaywright();
const office = await demoOffice(playwright);
const { server, user, open } = office;

// Values only A keyed: none may reach B's browser before B is done.
const SECRET_FAMILY = 'Zwolińska-Quayle';
const SECRET_GIVEN = 'Ottilie-Maëlys';
const SECRET_MOTHER = 'Gwendolyn-Þóra';

await office.run(async () => {
  const a = await user('clerk');
  const csrfA = await a.page.getAttribute('meta[name="civreg-csrf"]', 'content');
  const png = readFileSync(new URL('../../web/demo/register-page.png', import.meta.url));
  const up = await a.context.request.post(new URL('/api/v1/evidence', server.url).href, {
    headers: { 'Content-Type': 'image/png', 'X-CSRF-Token': csrfA }, data: png });
  assert.ok(up.ok(), await up.text());
  const scanHash = (await up.json()).hash;
  const example = await a.page.evaluate(async () => (await fetch('/api/v1/records/example')).json());
  const record = structuredClone(example);
  record.child.given_names = SECRET_GIVEN;
  record.child.family_name = SECRET_FAMILY;
  record.mother.given_names = SECRET_MOTHER;
  record.evidence = [scanHash];
  const made = await a.context.request.post(new URL('/api/v1/records', server.url).href, {
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfA }, data: { record } });
  assert.ok(made.ok(), await made.text());
  const id = (await made.json()).id;
  const enc = encodeURIComponent(id);

  // A: not offered her own draft to verify.
  await a.page.goto(server.url);
  await a.page.waitForSelector('#queue-to-verify');
  assert.equal(await a.page.locator(`#queue-to-verify [data-id="${id}"]`).count(), 0);
  assert.ok(Number(await a.page.getAttribute('#queue-my-drafts', 'data-count')) >= 1);
  await a.page.goto(new URL(`/records/${enc}`, server.url).href);
  await a.page.waitForSelector('#record-status');
  assert.equal(await a.page.locator('#go-verify').count(), 0);
  assert.equal(await a.page.locator('#own-draft').count(), 1, await a.page.textContent('#app'));
  await a.page.goto(new URL(`/records/${enc}/verify`, server.url).href);
  await a.page.waitForSelector('#verify-own');
  assert.equal(await a.page.locator('#verify-form').count(), 0);

  // B: every answer B's browser receives from here on is kept.
  const b = await user('clerk2');
  const wire = [];
  b.page.on('response', async (r) => {
    try {
      wire.push({ url: r.url(), status: r.status(), body: await r.text() });
    } catch {
      // a redirect or an image: no text body
    }
  });
  await b.page.goto(server.url);
  await b.page.waitForSelector(`#queue-to-verify [data-id="${id}"] a`);
  assert.ok(Number(await b.page.getAttribute('#queue-to-verify', 'data-count')) >= 1);
  await shot(b.page, 'home-clerk-queues');
  await b.page.click(`#queue-to-verify [data-id="${id}"] a`);
  // First keying by B: the family name read differently.
  await keyBlind(b.page, record, 'Zwolinska-Quail');
  await b.page.waitForSelector('#mismatches tr[data-field="child.family_name"]');
  assert.equal(await b.page.locator('#mismatches tbody tr').count(), 1);
  // The field is emptied and marked for re-keying; the other value is nowhere.
  assert.equal(await b.page.inputValue('#f-child-family_name'), '');
  assert.equal(await b.page.getAttribute('#f-child-family_name', 'aria-invalid'), 'true');
  assert.equal(await b.page.inputValue('#f-child-given_names'), SECRET_GIVEN); // B's own keying stays
  await shot(b.page, 'blind-verification');
  await screenshot(b.page, 'blind-1-mismatch');
  const mismatch = wire.find((w) => w.status === 409);
  assert.ok(mismatch, 'no 409 answer seen');
  const m = JSON.parse(mismatch.body);
  assert.deepEqual(m.mismatches.map((x) => x.field), ['child.family_name']);
  assert.ok(m.mismatches.every((x) => !('draft' in x)), 'the 409 names the first keying\'s value');
  assert.equal(m.sent_back, false);
  // Second disagreement: back to A with the field named.
  await b.page.fill('#f-child-family_name', 'Zwolinska-Quail');
  await b.page.click('#submit-verify');
  await b.page.waitForSelector('#verify-sent-back');
  assert.match(await b.page.textContent('#app'), /child|Child|Enfant|enfant/);
  assert.equal(await b.page.locator('#verify-form').count(), 0);
  // B opens the record view: a blind clerk gets the scans, not the values.
  await b.page.goto(new URL(`/records/${enc}`, server.url).href);
  await b.page.waitForSelector('#blind-note');
  assert.equal(await b.page.locator('#go-verify').count(), 1);
  const appText = await b.page.textContent('#app');
  assert.ok(!appText.includes(SECRET_FAMILY));
  // On the wire: nothing B received holds A's values.
  assert.ok(wire.some((w) => w.url.includes(`/api/v1/records/${enc}/blind`)));
  for (const w of wire)
    for (const secret of [SECRET_FAMILY, SECRET_GIVEN, SECRET_MOTHER])
      assert.ok(!w.body.includes(secret), `${w.url} sent the first keying's value ${secret}`);
  // And the record is refused to verification now.
  const again = await b.page.evaluate(async ([rid, rec]) => {
    const csrf = document.querySelector('meta[name="civreg-csrf"]').content;
    const r = await fetch(`/api/v1/records/${encodeURIComponent(rid)}/verify`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ record: rec }) });
    return r.status;
  }, [id, record]);
  assert.equal(again, 422);

  // A's home: sent back to her, with the field named.
  await a.page.goto(server.url);
  await a.page.waitForSelector(`#queue-sent-back [data-id="${id}"]`);
  assert.match(await a.page.textContent(`#queue-sent-back [data-id="${id}"]`), /child\.family_name/);
  assert.equal(await a.page.getAttribute('#queue-sent-back', 'data-count'), '1');
  await screenshot(a.page, 'blind-2-sent-back');

  assertNoProblems(open);
  console.log('ok: blind verification, queues, sent back');
}, { logTail: 4000 });
