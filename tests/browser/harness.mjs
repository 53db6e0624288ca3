// civreg browser tests: start the real `civreg serve` on a free loopback
// port and drive Debian's Chromium through playwright-core.
//
// Environment (set by CTest): CIVREG_BIN (the binary under test),
// CIVREG_ARTIFACTS (folder for screenshots). Exit code 77 = skipped
// (no Chromium or playwright-core on this machine).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const CHROMIUM = '/usr/bin/chromium';
export const artifacts = process.env.CIVREG_ARTIFACTS || join(process.cwd(), 'artifacts');
const bin = process.env.CIVREG_BIN;

export function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

export async function loadPlaywright() {
  if (!existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (install/deps.sh installs chromium)`);
  const require = createRequire(import.meta.url);
  try {
    return require('playwright-core');
  } catch {
    skip('playwright-core is missing (install/deps.sh runs npm install in tests/)');
  }
}

// civreg with ARGS started, once a line of its standard output matches
// PATTERN (within MS milliseconds): { proc, match }. WHAT names it in the
// errors; LOG (an array), when given, collects its standard error.
export async function spawnListening(args, pattern, ms, what, log = null) {
  if (!bin) throw new Error('CIVREG_BIN is not set');
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (d) => log && log.push(String(d)));
  const match = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${ms / 1000} s`)), ms);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = line.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.on('exit', (code) => reject(new Error(`${what} exited (${code})${log ? `: ${log.join('')}` : ''}`)));
  });
  return { proc, match };
}

// PROC stopped with SIGTERM; resolves once it has exited.
export async function stopProcess(proc) {
  if (proc.exitCode === null) {
    const done = new Promise((r) => proc.on('exit', r));
    proc.kill('SIGTERM');
    await done;
  }
}

// A fresh data directory; `civreg serve` on 127.0.0.1:0. Returns
// { url, stop(), dir, log }.
// With { demo: true } the data directory is made by `serve --demo`; with
// { data: DIR } an existing data directory is served (and left in place).
export async function startServer(extraArgs = [], { demo = false, data: given = null } = {}) {
  if (!bin) throw new Error('CIVREG_BIN is not set');
  const dir = mkdtempSync(join(tmpdir(), 'civreg-browser-'));
  const data = given || join(dir, 'data');
  if (demo) {
    extraArgs = ['--demo', ...extraArgs];
  } else if (!given) {
    const init = spawnSync(bin, ['init', '--data', data], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`civreg init failed: ${init.stderr}`);
  }
  const log = [];
  // a demo office is made first (records, PKI, booklets): slow under ASan on a busy machine
  const { proc, match } = await spawnListening(
    ['serve', '--data', data, '--listen', '127.0.0.1:0', ...extraArgs],
    /listening on (https?:\/\/127\.0\.0\.1:\d+\/)/, 150000, 'server', log);
  return {
    url: match[1],
    dir,
    data,
    log,
    async stop() {
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Headless Chromium with a fresh profile (its own --user-data-dir, so its
// own cookie jar: one per signed-in user). Every console error, page error
// and dialog is collected so tests can insist there are none.
export async function openBrowser(playwright) {
  const profile = mkdtempSync(join(tmpdir(), 'civreg-chromium-'));
  const context = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog opened: ${d.message()}`);
    d.dismiss();
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

// The screenshots docs/web.md links (build/screenshots/NAME.png): the
// screens as each role sees them.
export const screenshots = process.env.CIVREG_SCREENSHOTS || join(artifacts, '..', '..', 'screenshots');

export async function shot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  const path = join(screenshots, `${name}.png`);
  // from the top: sticky panels (the keying screen's page image) are drawn
  // where the window is scrolled to
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

// Sign in through the sign-in screen and wait for the home page.
export async function signIn(page, url, username, password) {
  await page.goto(new URL('/signin', url).href);
  await page.waitForSelector('#signin-form');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#signin-submit');
  await page.waitForURL(new URL('/', url).href);
  await page.waitForSelector('#roles');
}

// A JSON API call from inside PAGE (signed in: its session cookie and the
// page's CSRF token): { status, body }, body null when the answer is not JSON.
export async function apiCall(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = document.querySelector('meta[name="civreg-csrf"]').content;
    const r = await fetch('/api/v1' + p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, path, body]);
}

// The server's example record (GET /records/example) for a child named GIVEN
// FAMILY, without evidence: a draft to post or to key.
export async function exampleRecord(page, given, family) {
  const rec = structuredClone((await apiCall(page, 'GET', '/records/example')).body);
  rec.child.given_names = given;
  rec.child.family_name = family;
  rec.evidence = [];
  return rec;
}

// Fill the generated record form from a record object.
export async function fillRecord(page, record) {
  for (const [key, v] of Object.entries(record)) {
    if (key === 'evidence') continue;
    if (v && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v)) await fillField(page, `${key}-${k2}`, v2);
    } else await fillField(page, key, v);
  }
}

// Second, blind keying on the open verification form of PAGE: the form starts
// empty and shows the scan beside it; RECORD is keyed again with the child's
// family name read as FAMILY, and submitted.
export async function keyBlind(page, record, family) {
  await page.waitForSelector('#verify-form');
  assert.equal(await page.inputValue('#f-child-given_names'), '');
  await page.waitForFunction(() => document.querySelector('#evidence-panel img')?.naturalWidth > 0);
  const wrong = structuredClone(record);
  wrong.child.family_name = family;
  await fillRecord(page, wrong);
  await page.click('#submit-verify');
}

async function fillField(page, id, v) {
  const sel = `#f-${id}`;
  if (typeof v === 'boolean') await page.setChecked(sel, v);
  else if (await page.$eval(sel, (el) => el.tagName === 'SELECT')) await page.selectOption(sel, String(v));
  else await page.fill(sel, String(v));
}

// A browser test on a demo office (`serve --demo`): office.user(name,
// password) opens a browser signed in as that user (closed at the end);
// office.run(body) runs the test body, and on failure prints the error and
// the tail of the server's log (LOGTAIL characters, all when 0) and calls
// ONFAILURE(open browsers); then closes everything and exits 1 or 0.
export async function demoOffice(playwright) {
  const server = await startServer([], { demo: true });
  const open = [];
  return {
    server,
    open,
    url: (p) => new URL(p, server.url).href,
    async user(name, password = 'demo') {
      const b = await openBrowser(playwright);
      open.push(b);
      await signIn(b.page, server.url, name, password);
      return b;
    },
    async run(body, { logTail = 0, onFailure } = {}) {
      let failed = false;
      try {
        await body();
      } catch (e) {
        failed = true;
        console.error(e);
        const log = server.log.join('');
        console.error(logTail ? log.slice(-logTail) : log);
        if (onFailure) await onFailure(open);
      } finally {
        for (const b of open) await b.close().catch(() => {});
        await server.stop();
      }
      process.exit(failed ? 1 : 0);
    },
  };
}

// No browser in OPEN saw a console error, page error or dialog, but for the
// failed loads whose status is one of STATUSES (the refusals a test meant).
export function assertNoProblems(open, statuses = '401|403|409|422') {
  const meant = new RegExp(`Failed to load resource: .* (${statuses})`);
  for (const u of open) assert.deepEqual(u.problems.filter((p) => !meant.test(p)), []);
}
