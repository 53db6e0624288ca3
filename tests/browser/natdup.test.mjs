// Browser test: the registrar's screen of cross-district duplicate cases
// against a real national tier. A PostgreSQL 15 server of its own
// (tests/support/pg_cluster.sh), `civreg national serve` on loopback, two
// district offices DA and DB that registered the same two births and
// pushed them. DB's registrar signs in, sees both cases with the two
// records side by side, resolves one in English (same birth) and, after
// switching to French, the other (two births); the national tier records
// both decisions. With the national service stopped the screen says so in
// French (502), without a crash. Screenshots: natdup-*.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { axeAudit, axeAvailable, languageScan } from './audit.mjs';
import {
  apiCall, assertNoProblems, loadPlaywright, openBrowser, shot, signIn, skip, spawnListening, startServer, stopProcess,
} from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.CIVREG_BIN;
const playwright = await loadPlaywright();
const pgBin = process.env.CIVREG_PG_BIN || '/usr/lib/postgresql/15/bin';
if (!existsSync(join(pgBin, 'initdb'))) skip('PostgreSQL 15 server binaries are missing (install/deps.sh)');

const PW = { admin: 'nimda-tundra-ferns-61', clerk1: '1krelc-tundra-ferns-61', clerk2: '2krelc-tundra-ferns-61',
  reg: 'rartsiger-tundra-ferns-61' };
const root = mkdtempSync(join(tmpdir(), 'civreg-natdup-'));
chmodSync(root, 0o755); // the PostgreSQL server runs as postgres under root
const pgDir = join(root, 'pg');
const pgCluster = join(here, '..', 'support', 'pg_cluster.sh');

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return r.stdout;
}
const civreg = (args, input) => run(bin, args, input);
const psql = (url, sql) => run('/usr/bin/psql', [url, '-Atq', '-c', sql]).trim();

// `civreg national serve` on a free loopback port: { url, stop() }.
async function nationalServe(pgUrl) {
  const { proc, match } = await spawnListening(
    ['national', 'serve', '--pg', pgUrl, '--listen', '127.0.0.1:0', '--insecure-loopback'],
    /127\.0\.0\.1:(\d+)/, 60000, 'national serve');
  return { url: `http://127.0.0.1:${match[1]}`, stop: () => stopProcess(proc) };
}

// A district office: its data directory with admin, two clerks and a registrar.
function district(office) {
  const data = join(root, 'district-' + office);
  const pw = join(root, 'admin.pw');
  civreg(['init', '--data', data, '--office', office]);
  appendFileSync(pw, '');
  run('/bin/sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', PW.admin, pw]);
  civreg(['user', 'add', '--data', data, '--username', 'admin', '--role', 'admin'], PW.admin + '\n');
  for (const [u, role] of [['clerk1', 'clerk'], ['clerk2', 'clerk'], ['reg', 'registrar']])
    civreg(['user', 'add', '--data', data, '--username', u, '--role', role, '--user', 'admin', '--password-file', pw],
      PW[u] + '\n');
  return data;
}

function pwFile(user) {
  const f = join(root, user + '.pw');
  run('/bin/sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', PW[user], f]);
  return f;
}

// Draft (clerk1), verify (clerk2) and register (reg) a birth: its UIN.
function registerBirth(data, example, given, date, facility) {
  const rec = structuredClone(example);
  rec.child.given_names = given;
  rec.birth.date = date;
  if (facility) rec.birth.facility = facility;
  delete rec.registration_date;
  const text = JSON.stringify(rec);
  const id = civreg(['record', 'draft', '--data', data, '--user', 'clerk1', '--password-file', pwFile('clerk1')], text).trim();
  civreg(['record', 'verify', id, '--data', data, '--user', 'clerk2', '--password-file', pwFile('clerk2')], text);
  return JSON.parse(civreg(['record', 'register', id, '--data', data, '--user', 'reg', '--password-file', pwFile('reg')])).uin;
}

let nat = null, server = null, browser = null, failed = false;
let pgUrl = '';
try {
  const pg = spawnSync(pgCluster, ['start', pgDir], { encoding: 'utf8' });
  if (pg.status === 77) skip('PostgreSQL 15 server binaries are missing (install/deps.sh)');
  assert.equal(pg.status, 0, pg.stderr);
  pgUrl = pg.stdout.trim().split('\n').pop();
  civreg(['national', 'init', '--pg', pgUrl]);
  nat = await nationalServe(pgUrl);
  const example = JSON.parse(civreg(['record', 'draft', '--example']));
  const offices = {};
  for (const o of ['DA', 'DB']) {
    offices[o] = district(o);
    const key = JSON.parse(civreg(['audit', 'head', '--data', offices[o]])).office_public_key;
    civreg(['national', 'office-add', '--pg', pgUrl, '--office', o, '--key', key]);
  }
  // the second birth was entered at another hospital in DA: a row that differs
  const births = [['Wanjiku Imani', '1985-06-07'], ['Baraka Juma', '1991-02-03']];
  for (const o of ['DA', 'DB']) {
    for (const [given, date] of births)
      registerBirth(offices[o], example, given, date,
        o === 'DA' && given === 'Baraka Juma' ? 'Jaramogi Oginga Odinga Hospital' : null);
    civreg(['sync', 'push', '--data', offices[o], '--national', nat.url]);
  }
  assert.equal(psql(pgUrl, "SELECT count(*) FROM dup_cases WHERE status = 'open'"), '2');

  appendFileSync(join(offices.DB, 'civreg.conf'), `\nnational_url = ${nat.url}\nnational_timeout_seconds = 5\n`);
  server = await startServer([], { data: offices.DB });
  const url = (p) => new URL(p, server.url).href;
  browser = await openBrowser(playwright);
  const { page } = browser;
  await signIn(page, server.url, 'reg', PW.reg);

  // --- English: the home page links the screen; both cases, side by side.
  await page.click('a[href="/national/duplicates"]');
  await page.waitForSelector('#natdup-cases section.natdup');
  assert.equal(await page.locator('h1').innerText(), 'Cross-district duplicate cases');
  const ids = await page.locator('#natdup-cases > section.natdup').evaluateAll((els) => els.map((e) => e.dataset.case));
  assert.equal(ids.length, 2, 'two open cases');
  const [c1, c2] = ids;
  const head = await page.locator(`#case-${c1}-records thead`).innerText();
  assert.match(head, /This office \(DB\)/);
  assert.match(head, /Other office \(DA\)/);
  const rows = await page.locator(`#case-${c1}-records tbody`).innerText();
  assert.match(rows, /Wanjiku Imani|Baraka Juma/);
  assert.match(rows, /Kisumu/);
  assert.match(rows, /DB-|DA-/);
  // the fields that differ are marked, and only those
  const differs = await page.locator('#natdup-cases tr.differs').evaluateAll((els) => els.map((e) => e.dataset.row));
  assert.deepEqual(differs, ['place']);
  await shot(page, 'natdup-en-open');
  if (axeAvailable()) await axeAudit(page, '/national/duplicates (en)');

  // a decision needs a reason
  await page.click(`#same-${c1}`);
  assert.equal(await page.locator(`#error-${c1}`).innerText(), 'A reason is required.');
  await page.fill(`#reason-${c1}`, 'One birth registered in both districts: same parents, same hospital, same day.');
  await page.click(`#same-${c1}`);
  await page.waitForSelector(`#natdup-closed #case-${c1}[data-status="same"]`, { state: 'attached' });
  assert.match(await page.locator('#natdup-note').innerText(), new RegExp(`Case ${c1} decided: signed event \\d+, recorded by the national registry`));
  assert.equal(psql(pgUrl, `SELECT status FROM dup_cases WHERE id = ${c1}`), 'same');
  await page.click('#natdup-closed summary');
  await shot(page, 'natdup-en-decided');

  // --- French: the other case, two births.
  const r = await apiCall(page, 'PATCH', '/session', { lang: 'fr' });
  assert.equal(r.status, 200);
  await page.goto(url('/national/duplicates'));
  await page.waitForSelector(`#case-${c2}`);
  assert.equal(await page.locator('h1').innerText(), 'Doublons entre districts');
  assert.match(await page.locator(`#case-${c2}-records thead`).innerText(), /Ce bureau \(DB\)/);
  assert.match(await page.locator(`#case-${c2}-records tbody`).innerText(), /Date de naissance/);
  assert.equal(await page.locator(`#distinct-${c2}`).innerText(), 'Deux naissances différentes');
  await shot(page, 'natdup-fr-open');
  await languageScan(page, '/national/duplicates (fr)');
  if (axeAvailable()) await axeAudit(page, '/national/duplicates (fr)');
  await page.fill(`#reason-${c2}`, 'Deux enfants distincts : parents différents, vérifié auprès des deux bureaux.');
  await page.click(`#distinct-${c2}`);
  await page.waitForSelector(`#natdup-closed #case-${c2}[data-status="distinct"]`, { state: 'attached' });
  assert.match(await page.locator('#natdup-note').innerText(), new RegExp(`Cas ${c2} tranché`));
  assert.equal(await page.locator('#natdup-none').innerText(), 'Aucun cas ouvert pour ce bureau.');
  assert.equal(psql(pgUrl, `SELECT status FROM dup_cases WHERE id = ${c2}`), 'distinct');
  assert.equal(psql(pgUrl, "SELECT count(*) FROM events WHERE office = 'DB' AND type = 'national.duplicate'"), '2');
  await page.click('#natdup-closed summary');
  await shot(page, 'natdup-fr-decided');

  // --- The national tier stopped: a clear message in French, no crash.
  await nat.stop();
  await page.goto(url('/national/duplicates'));
  await page.waitForSelector('#natdup-error');
  assert.equal(await page.getAttribute('#natdup-error', 'data-code'), 'national_unreachable');
  assert.equal(await page.locator('#natdup-error').innerText(),
    'Le registre national est injoignable pour le moment : réessayez plus tard.');
  await shot(page, 'natdup-fr-unreachable');
  await languageScan(page, '/national/duplicates (fr, unreachable)');
  assertNoProblems([browser], '502');
  // DB's log, with the two events the screen signed, verifies
  civreg(['audit', 'verify', '--data', offices.DB]);
} catch (e) {
  failed = true;
  console.error(e);
  if (server) console.error(server.log.join('').slice(-4000));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop().catch(() => {});
  if (nat) await nat.stop().catch(() => {});
  spawnSync(pgCluster, ['stop', pgDir]);
  if (!process.env.CIVREG_KEEP_TMP) rmSync(root, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
