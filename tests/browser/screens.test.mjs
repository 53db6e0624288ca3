// Browser test of screens that misled their users (demo office): the person
// view (signature marks, heading, no "[object Object]"), the passport
// queue's filter bar (no raw URLs), a record resolved as the same birth as
// another (closed, no dead buttons), the user admin's user-name check (a
// pattern the browser accepts, errors beside the field), a refused screen
// (a page, not JSON), per-screen titles, a deep link kept through sign-in,
// search ("1 result", no raw scores, a relevance floor), the public seal
// page (no session call).
import assert from 'node:assert/strict';
import { apiCall, assertNoProblems, demoOffice, exampleRecord, loadPlaywright, openBrowser, screenshot, shot } from './harness.mjs';

const playwright = await loadPlaywright();
const office = await demoOffice(playwright);
const { server, url, user, open } = office;

await office.run(async () => {
  // --- The person view (registrar).
  const reg = await user('registrar');
  const regs = await apiCall(reg.page, 'GET', '/records?status=registered&limit=1');
  const one = regs.body[0] || regs.body.records?.[0];
  assert.ok(one?.uin, JSON.stringify(regs.body).slice(0, 300));
  await reg.page.goto(url('/persons/' + encodeURIComponent(one.uin)));
  await reg.page.waitForSelector('#links li');
  const heading = (await reg.page.textContent('h1')).trim();
  assert.equal(heading, `${one.given_names} ${one.family_name}`);
  const marks = await reg.page.locator('#links [data-valid]').evaluateAll((els) => els.map((e) => e.dataset.valid));
  assert.ok(marks.length >= 1 && marks.every((v) => v === 'true'), `link marks ${marks}`);
  const personText = await reg.page.textContent('#app');
  assert.ok(!personText.includes('[object Object]'), 'the person view dumps [object Object]');
  assert.match(await reg.page.title(), /civreg/);
  await screenshot(reg.page, 'screens-1-person');

  // --- A record resolved as the same birth as another: closed, no dead buttons.
  const clerk = await user('clerk');
  const clerk2 = await user('clerk2');
  const rec = await exampleRecord(clerk.page, 'Séverine', 'Abergavenny-Lind');
  const first = await apiCall(clerk.page, 'POST', '/records', { record: rec });
  assert.ok(first.status < 300, JSON.stringify(first.body));
  const second = await apiCall(clerk.page, 'POST', '/records', { record: rec });
  assert.ok(second.status < 300, JSON.stringify(second.body));
  for (const r of [first, second]) {
    const v = await apiCall(clerk2.page, 'POST', `/records/${encodeURIComponent(r.body.id)}/verify`, { record: rec });
    assert.equal(v.status, 200, JSON.stringify(v.body));
  }
  const dups = await apiCall(reg.page, 'GET', `/records/${encodeURIComponent(second.body.id)}/duplicates`);
  const pair = dups.body.candidates.find((c) => [c.record_id, c.other_id].includes(first.body.id));
  assert.ok(pair, JSON.stringify(dups.body));
  const res = await apiCall(reg.page, 'POST', `/records/${encodeURIComponent(pair.record_id)}/duplicates/${encodeURIComponent(pair.other_id)}`,
    { decision: 'duplicate', reason: 'keyed twice from the same entry' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await reg.page.goto(url('/records/' + encodeURIComponent(pair.record_id)));
  await reg.page.waitForSelector('#record-status');
  assert.equal(await reg.page.getAttribute('#record-status', 'data-closed'), 'merged');
  assert.ok(!/score \d/.test(await reg.page.textContent('#app')), 'raw duplicate score shown');
  assert.match(await reg.page.textContent('#closed-note'), /keyed twice from the same entry/);
  assert.equal(await reg.page.locator('#register').count(), 0, 'a Register button the registry refuses');
  assert.equal(await reg.page.locator('#go-correct').count(), 0);
  await screenshot(reg.page, 'screens-2-closed');
  // the other record of the pair stays open to registration
  await reg.page.goto(url('/records/' + encodeURIComponent(pair.other_id)));
  await reg.page.waitForSelector('#register');

  // --- The passport queue's filter bar: links with words, never raw URLs.
  const appr = await user('approver');
  await appr.page.goto(url('/passport'));
  await appr.page.waitForSelector('#applications');
  const filters = await appr.page.textContent('nav.filters');
  assert.ok(!/https?:|\[object/.test(filters), `filter bar: ${filters}`);
  assert.ok((await appr.page.locator('nav.filters a').count()) >= 9);

  // --- User admin: the user-name pattern runs, the error is beside the field.
  const admin = await user('admin');
  await admin.page.goto(url('/admin/users'));
  await admin.page.waitForSelector('#add-user');
  await admin.page.fill('#new-username', 'Bad Name!');
  await admin.page.fill('#new-password', 'a long enough passphrase here');
  assert.equal(await admin.page.evaluate(() => document.querySelector('#new-username').validity.patternMismatch), true,
    'the browser ignores the user-name pattern');
  await admin.page.click('#create-user');
  await admin.page.waitForFunction(() => document.querySelector('#new-username-error')?.textContent !== '');
  assert.equal(await admin.page.getAttribute('#new-username', 'aria-invalid'), 'true');
  // beside the field: the message is right under the input
  const [ibox, ebox] = await Promise.all([admin.page.locator('#new-username').boundingBox(), admin.page.locator('#new-username-error').boundingBox()]);
  assert.ok(ebox.y >= ibox.y + ibox.height - 1 && ebox.y - (ibox.y + ibox.height) < 40, 'error not beside the field');
  assert.equal(admin.problems.filter((p) => /pattern/i.test(p)).length, 0, admin.problems.join('\n'));

  // --- A refused screen is a page in the user's language, not JSON.
  const resp = await clerk.page.goto(url('/admin/users'));
  assert.equal(resp.status(), 403);
  assert.match(resp.headers()['content-type'], /text\/html/);
  await clerk.page.waitForSelector('#forbidden');
  assert.match(await clerk.page.title(), /civreg/);

  // --- Each screen its own title.
  await clerk.page.goto(url('/'));
  await clerk.page.waitForSelector('#roles');
  const homeTitle = await clerk.page.title();
  await clerk.page.goto(url('/records'));
  await clerk.page.waitForFunction((t0) => document.title !== t0 && document.title !== 'civreg', homeTitle);
  assert.notEqual(await clerk.page.title(), homeTitle);

  // --- Search: "1 result", words not scores, and nothing for an unrelated name.
  const lone = structuredClone(rec);
  lone.child.given_names = 'Ottoline';
  lone.child.family_name = 'Quarrington-Vex';
  assert.ok((await apiCall(clerk.page, 'POST', '/records', { record: lone })).status < 300);
  await clerk.page.goto(url('/search?q=' + encodeURIComponent('Ottoline Quarrington-Vex')));
  await clerk.page.waitForSelector('#search-count');
  assert.match(await clerk.page.textContent('#search-count'), /^1 result for/);
  assert.equal(await clerk.page.locator('#search-results li').count(), 1);
  assert.equal(await clerk.page.locator('[data-score]').count(), 0);
  assert.ok(!/score/i.test(await clerk.page.textContent('#search-results')), 'raw score shown');
  await clerk.page.goto(url('/search?q=Mueller'));
  await clerk.page.waitForSelector('#search-count');
  assert.equal(await clerk.page.locator('#search-results li').count(), 0, await clerk.page.textContent('#app'));
  assert.equal(await clerk.page.locator('#search-none').count(), 1);

  // --- A deep link survives sign-in.
  const fresh = await openBrowser(playwright);
  open.push(fresh);
  const target = '/records/' + encodeURIComponent(one.id);
  await fresh.page.goto(url(target));
  await fresh.page.waitForSelector('#signin-form');
  assert.match(fresh.page.url(), /\/signin\?next=/);
  await fresh.page.fill('#username', 'registrar');
  await fresh.page.fill('#password', 'demo');
  await fresh.page.click('#signin-submit');
  await fresh.page.waitForURL((u) => u.pathname === target);
  await fresh.page.waitForSelector('#record-status');
  // a next that leaves the site is ignored
  const evil = await openBrowser(playwright);
  open.push(evil);
  await evil.page.goto(url('/signin?next=' + encodeURIComponent('//example.org/x')));
  await evil.page.waitForSelector('#signin-form');
  await evil.page.fill('#username', 'clerk');
  await evil.page.fill('#password', 'demo');
  await evil.page.click('#signin-submit');
  await evil.page.waitForURL(url('/'));

  // --- The public seal page asks for no session.
  const pub = await openBrowser(playwright);
  open.push(pub);
  const asked = [];
  pub.page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/session') asked.push(r.method());
  });
  await pub.page.goto(url('/seal'));
  await pub.page.waitForSelector('#app h1');
  await pub.page.waitForTimeout(500);
  assert.deepEqual(asked, []);
  await shot(pub.page, 'seal-public');

  assertNoProblems(open);
  console.log('ok: screens');
}, { logTail: 3000 });
