// Browser test of user administration on a demo office: the admin changes
// a clerk's roles and resets a password from the users screen; the account
// rules' refusals (admin with a data role, a weak password) are shown in
// the user's words, English then French; the clerk's open session ends at
// once. Each user is a separate browser profile.
import assert from 'node:assert/strict';
import { demoOffice, loadPlaywright, screenshot, signIn } from './harness.mjs';

const playwright = await loadPlaywright();
const office = await demoOffice(playwright);
const { server, user, open } = office;

const sessionStatus = (b) => b.page.evaluate(async () => (await fetch('/api/v1/session')).status);

await office.run(async () => {
  const clerk = await user('clerk2');
  const admin = await user('admin');
  assert.equal(await sessionStatus(clerk), 200);

  const p = admin.page;
  await p.goto(new URL('/admin/users', server.url).href);
  await p.waitForSelector('#users');
  await p.click('button[data-change="clerk2"]');
  await p.waitForSelector('#change-user:not([hidden])');
  assert.match(await p.textContent('#change-user h2'), /clerk2/);

  // admin beside clerk: refused with the rule, in English
  await p.check('#change-user input[value="admin"]');
  await p.click('#set-roles');
  await p.waitForFunction(() => document.querySelector('#users-error')?.textContent !== '');
  assert.match(await p.textContent('#users-error'), /admin role cannot be combined/);
  // a weak password: refused with the policy
  await p.fill('#reset-password', 'password1234');
  await p.click('#reset-password-button');
  await p.waitForFunction(() => /too common/.test(document.querySelector('#users-error')?.textContent));
  await screenshot(p, 'users-refused');
  assert.equal(await sessionStatus(clerk), 200);

  // In French, the same refusal in French.
  const lang = await p.evaluate(async () => {
    const s = await (await fetch('/api/v1/session')).json();
    const r = await fetch('/api/v1/session', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body: JSON.stringify({ lang: 'fr' }),
    });
    return r.status;
  });
  assert.equal(lang, 200);
  await p.reload();
  await p.waitForSelector('#users');
  await p.click('button[data-change="clerk2"]');
  await p.fill('#reset-password', 'court');
  await p.click('#reset-password-button');
  await p.waitForFunction(() => document.querySelector('#users-error')?.textContent !== '');
  assert.match(await p.textContent('#users-error'), /au moins 12 caractères/);

  // Roles set: the clerk's session ends at once.
  await p.uncheck('#change-user input[value="admin"]').catch(() => {});
  await p.check('#change-user input[value="registrar"]');
  await Promise.all([p.waitForNavigation(), p.click('#set-roles')]);
  await p.waitForSelector('#users');
  assert.equal(await sessionStatus(clerk), 401);
  await screenshot(p, 'users-roles-set');

  // A reset with a good password: the user signs in with it.
  await p.click('button[data-change="clerk2"]');
  await p.fill('#reset-password', 'Quiet-harbor-lamp-93');
  await Promise.all([p.waitForNavigation(), p.click('#reset-password-button')]);
  await signIn(clerk.page, server.url, 'clerk2', 'Quiet-harbor-lamp-93');
  assert.equal(await sessionStatus(clerk), 200);

  // The refusals above are 422 answers the browser reports as failed loads,
  // and the ended session's 401: nothing else.
  for (const b of open)
    assert.deepEqual(b.problems.filter((m) => !/status of (422|401)/.test(m)), [], 'browser errors');
});
