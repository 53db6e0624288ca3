// Browser test: the sign-in screen in English and French, signed-out
// redirects, a strict CSP with no violations, hostile input shown as text.
import assert from 'node:assert/strict';
import { loadPlaywright, openBrowser, screenshot, startServer } from './harness.mjs';

const playwright = await loadPlaywright();
const server = await startServer();
const { page, problems, close } = await openBrowser(playwright);
let failed = false;
try {

  // Signed out, the home page sends the browser to sign-in.
  const resp = await page.goto(server.url);
  assert.equal(new URL(page.url()).pathname, '/signin');
  assert.equal(resp.status(), 200);
  const csp = resp.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.waitForSelector('#signin-form');
  assert.equal(await page.textContent('h1'), 'Sign in');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await screenshot(page, 'signin-en');

  // The session cookie is never readable by scripts; none exists yet.
  assert.equal(await page.evaluate(() => document.cookie), '');

  // French, chosen on the sign-in screen.
  await page.selectOption('#signin-lang', 'fr');
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Connexion');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.textContent('label[for="password"]'), 'Mot de passe');
  await screenshot(page, 'signin-fr');
  await page.selectOption('#signin-lang', 'en');
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Sign in');

  // Empty form: a message, no request.
  await page.click('#signin-submit');
  assert.match(await page.textContent('#signin-error'), /Enter your user name/);

  // Hostile user name: sent as data, refused, never turned into markup.
  await page.fill('#username', '<img src=x onerror=alert(1)>\'"; DROP TABLE users; --');
  await page.fill('#password', 'wrong password');
  await page.click('#signin-submit');
  await page.waitForFunction(() => document.querySelector('#signin-error')?.textContent !== '');
  const msg = await page.textContent('#signin-error');
  // Without users in this data directory the answer is "wrong" (registry
  // built in) or "not available" (no registry module); either way a
  // message, no session, and no image element was created.
  assert.match(msg, /Wrong user name or password|not available/);
  assert.equal(await page.locator('#app img').count(), 0);
  assert.equal(await page.inputValue('#password'), '');
  await screenshot(page, 'signin-refused');

  // Protected API and pages still refuse.
  const api = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(api, 401);

  // Fingerprinted assets are cached for a year.
  const js = await page.evaluate(() => document.querySelector('script[type=module]').src);
  const r = await page.request.get(js);
  assert.match(r.headers()['cache-control'], /immutable/);

  // The refused sign-in and the 401 probe log 'Failed to load resource'.
  assert.deepEqual(problems.filter((p) => !/Failed to load resource: .* (401|503)/.test(p)), []);
  console.log('ok: sign-in screen');
} catch (e) {
  failed = true;
  console.error(e);
  console.error(server.log.join(''));
} finally {
  await close();
  await server.stop();
}
process.exit(failed ? 1 : 0);
