// Browser test of the passport office on a demo office: a birth record with
// its scanned page is registered; the enrolment officer opens an
// application with a photo upload; the same officer's approval is refused,
// a second officer approves (the demo office has received blank booklets);
// the issuance operator personalizes, downloads the data page PDF (its MRZ
// checked with pdftotext) and the chip package signed by the demo office's
// document signer, passes quality control and issues; the auditor traces
// the document number to the scan with every signature verified; an extract
// sealed by the demo office's barcode signer passes the public seal check.
// The signature is uploaded as a 16-bit RGB PNG: the data page embeds it as
// the same 8-bit grey picture, once, unsquashed (pdfimages).
// Each user is a separate browser profile.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoOffice, loadPlaywright, screenshot } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '..', 'data', 'issuance');
const playwright = await loadPlaywright();
const office = await demoOffice(playwright);
const { server, user, open } = office;
const bin = process.env.CIVREG_BIN;

// Decode an 8-bit grey, non-interlaced PNG: { w, h, px } (one byte a pixel).
function greyPng(buf) {
  let off = 8, w = 0, h = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.toString('latin1', off + 4, off + 8);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      w = body.readUInt32BE(0);
      h = body.readUInt32BE(4);
      assert.deepEqual([body[8], body[9], body[12]], [8, 0, 0], 'the test signature is 8-bit grey, not interlaced');
    } else if (type === 'IDAT') idat.push(body);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const px = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (w + 1)];
    for (let x = 0; x < w; x++) {
      const v = raw[y * (w + 1) + 1 + x];
      const a = x ? px[y * w + x - 1] : 0, b = y ? px[(y - 1) * w + x] : 0, c = x && y ? px[(y - 1) * w + x - 1] : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      px[y * w + x] = (v + pred) & 255;
    }
  }
  return { w, h, px };
}

// The same picture as a 16-bit RGB PNG (each sample g as g * 257).
function rgb16Png({ w, h, px }) {
  const chunk = (type, body) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 16;
  ihdr[9] = 2;
  const raw = Buffer.alloc(h * (1 + 6 * w));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < 3; k++) raw.writeUInt16BE(px[y * w + x] * 257, y * (1 + 6 * w) + 1 + 6 * x + 2 * k);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// Wait until #app-status reads STATUS; on a timeout, say what the screen
// reported instead.
async function waitStatus(page, status) {
  try {
    await page.waitForFunction((s) => document.querySelector('#app-status')?.textContent === s,
      status, { timeout: 20000 });
  } catch (e) {
    const err = await page.textContent('#action-error').catch(() => '');
    throw new Error(`status never became ${status}: ${err}`);
  }
}

// An API call from inside a signed-in page (session cookie + CSRF token).
async function call(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = (await (await fetch('/api/v1/session')).json()).csrf_token;
    const r = await fetch('/api/v1' + p, { method: m, headers: { 'Content-Type': 'application/json',
      'X-CSRF-Token': csrf }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, path, body]);
}

function cli(args, input) {
  const r = spawnSync(bin, [...args, '--data', server.data], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`civreg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

// HEAD PATH with COOKIE on a raw keep-alive connection, then GET /healthz
// on the same connection: { head, extra, next } -- the HEAD answer's
// headers, any bytes that followed them within 200 ms, the next answer.
function headThenHealthz(url, path, cookie) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let buf = Buffer.alloc(0), head = null, extra = null;
    sock.setTimeout(10000, () => { sock.destroy(); reject(new Error(`HEAD ${path}: timeout`)); });
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (head === null && end >= 0) {
        head = buf.subarray(0, end + 4).toString('latin1');
        buf = buf.subarray(end + 4);
        setTimeout(() => {
          extra = buf.length;
          buf = Buffer.alloc(0);
          sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        }, 200);
      }
    });
    sock.on('end', () => resolve({ head, extra, next: buf.toString('latin1') }));
    sock.write(`HEAD ${path} HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`);
  });
}

await office.run(async () => {
  // The scanned register page, then a record keyed from it, verified blind
  // and registered (clerk, clerk2, registrar).
  const scan = cli(['evidence', 'add', join(dataDir, 'signature.png'), '--media-type', 'image/png',
                    '--user', 'clerk'], 'demo\n');
  const clerk = await user('clerk');
  const example = (await call(clerk.page, 'GET', '/records/example')).body;
  example.child.given_names = 'Zoé Wanjiru';
  example.child.family_name = 'Müller-Otieno';
  example.register.entry = 4242;
  example.evidence = [scan];
  const drafted = await call(clerk.page, 'POST', '/records', { record: example });
  assert.equal(drafted.status, 201, JSON.stringify(drafted.body));
  const rid = drafted.body.id;
  const clerk2 = await user('clerk2');
  assert.equal((await call(clerk2.page, 'POST', `/records/${encodeURIComponent(rid)}/verify`, { record: example })).status, 200);
  const registrar = await user('registrar');
  const reg = await call(registrar.page, 'POST', `/records/${encodeURIComponent(rid)}/register`);
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const uin = reg.body.uin;

  // An officer who both enrols and approves (so four eyes has something to
  // refuse), made by the administrator.
  const admin = await user('admin');
  const made = await call(admin.page, 'POST', '/users', { username: 'officer2', password: '2reciffo-tundra-ferns-61',
    roles: ['enrolment_officer', 'approver'], office: 'DEMO' });
  assert.equal(made.status, 201, JSON.stringify(made.body));

  // Enrolment on the screen, with the photo uploaded and previewed.
  const enrol = await user('officer2', '2reciffo-tundra-ferns-61');
  await enrol.page.goto(new URL('/passport/enrol', server.url).href);
  await enrol.page.waitForSelector('#enrol-form');
  await enrol.page.fill('#uin', uin);
  await enrol.page.click('#lookup');
  await enrol.page.waitForSelector('#person bdi');
  assert.match(await enrol.page.textContent('#person'), /Müller-Otieno/);
  await enrol.page.setInputFiles('#photo', join(dataDir, 'portrait.jpg'));
  await enrol.page.waitForFunction(() => /35:45/.test(document.querySelector('#photo-aspect').textContent));
  const sigGrey = greyPng(readFileSync(join(dataDir, 'signature.png')));
  const sig16 = join(server.dir, 'signature-rgb16.png');
  writeFileSync(sig16, rgb16Png(sigGrey));
  await enrol.page.setInputFiles('#signature', sig16);
  await enrol.page.fill('#phone', '+254 700 000 000');
  await screenshot(enrol.page, 'passport-1-enrolment');
  await enrol.page.click('#enrol-submit');
  await enrol.page.waitForURL((u) => u.pathname.startsWith('/passport/applications/'));
  await enrol.page.waitForSelector('#app-status');
  assert.equal(await enrol.page.textContent('#app-status'), 'submitted');
  const app = decodeURIComponent(new URL(enrol.page.url()).pathname.split('/')[3]);
  assert.equal(await enrol.page.locator('#checks li').count(), 4);
  // A second valid passport is refused with a clear message.
  const second = await call(enrol.page, 'POST', '/applications', { uin,
    photo: readFileSync(join(dataDir, 'portrait.jpg')).toString('base64') });
  assert.equal(second.status, 409);
  assert.match(second.body.error.message, /a second valid passport is not allowed/);

  // The enrolling officer's own approval is refused on the screen (four
  // eyes); personalization before approval is refused too.
  await enrol.page.click('#approve');
  await enrol.page.waitForFunction(() => /four-eyes rule/.test(document.querySelector('#action-error').textContent));
  assert.equal(await enrol.page.textContent('#app-status'), 'submitted');
  await screenshot(enrol.page, 'passport-1b-four-eyes');
  const operator = await user('operator');
  const noApproval = await call(operator.page, 'POST', `/applications/${encodeURIComponent(app)}/personalize`);
  assert.equal(noApproval.status, 409);
  assert.match(noApproval.body.error.message, /only an approved application is personalized/);
  // Those refusals were meant: their failed requests are not page errors.
  for (const b of [enrol, operator]) b.problems.splice(0);
  // No stock to receive: the demo office has its delivery of blank booklets.
  const approver = await user('approver');
  await approver.page.goto(new URL('/passport?status=submitted', server.url).href);
  await approver.page.waitForSelector(`tr[data-id="${app}"]`);
  await screenshot(approver.page, 'passport-2-approval-queue');
  await approver.page.click(`tr[data-id="${app}"] a`);
  await approver.page.waitForSelector('#approve');
  await approver.page.click('#approve');
  await waitStatus(approver.page, 'approved');
  const number = await approver.page.textContent('#document-number');
  assert.match(number, /^[A-Z0-9]{9}$/);
  const approved = await call(approver.page, 'GET', `/applications/${encodeURIComponent(app)}`);
  assert.match(approved.body.booklet_serial, /^P1\d{5}$/, JSON.stringify(approved.body));

  // Personalization, downloads, quality control, issuance.
  await operator.page.goto(new URL('/passport/applications/' + encodeURIComponent(app), server.url).href);
  await operator.page.click('#personalize');
  await waitStatus(operator.page, 'personalized');
  const mrz = (await operator.page.textContent('#mrz')).trim();
  await screenshot(operator.page, 'passport-3-personalized');
  const [pdfDownload] = await Promise.all([operator.page.waitForEvent('download'), operator.page.click('#download-pdf')]);
  const pdfPath = join(server.dir, 'datapage.pdf');
  await pdfDownload.saveAs(pdfPath);
  const text = spawnSync('pdftotext', [pdfPath, '-'], { encoding: 'utf8' });
  assert.equal(text.status, 0);
  assert.ok(text.stdout.includes(mrz + '\n'), `PDF text lacks the MRZ:\n${mrz}\n${text.stdout}`);
  const info = spawnSync('pdfinfo', [pdfPath], { encoding: 'utf8' }).stdout;
  assert.match(info, /Page size:\s+354\.33\d? x 249\.44\d? pts/);
  {
    // The 16-bit RGB signature: one image of its size, 8-bit grey (libharu
    // alone embedded it as 16-bit samples read as 8: twice, squashed).
    const list = spawnSync('pdfimages', ['-list', pdfPath], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    const rows = list.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(/\s+/));
    const sized = rows.filter((r) => r[3] === String(sigGrey.w) && r[4] === String(sigGrey.h));
    assert.equal(sized.length, 1, `signature images in the PDF:\n${list.stdout}`);
    assert.deepEqual([sized[0][5], sized[0][7]], ['gray', '8'], list.stdout);
  }
  // The demo office has a document signer: the chip is personalized too.
  assert.equal(await operator.page.locator('#download-chip').count(), 1, 'no chip package');
  {
    const [chip] = await Promise.all([operator.page.waitForEvent('download'), operator.page.click('#download-chip')]);
    const chipPath = join(server.dir, 'chip.json');
    await chip.saveAs(chipPath);
    const pkg = JSON.parse(readFileSync(chipPath, 'utf8'));
    for (const fid of ['011E', '0101', '0102', '011D']) assert.ok(pkg[fid], `chip package lacks ${fid}`);
    // The chip's AA and CA private keys stay sealed in the office: only EFs and the manifest.
    for (const k of Object.keys(pkg)) assert.ok(k === 'manifest' || /^[0-9A-F]{4}$/.test(k), `chip package carries ${k}`);
    // DG1 carries the same MRZ as the page.
    const dg1 = Buffer.from(pkg['0101'], 'base64').toString('latin1');
    assert.ok(dg1.includes(mrz.replace('\n', '')), 'DG1 is not the page MRZ');
  }
  // HEAD on each download of the application: headers only, the GET's
  // length, the security headers, and the connection stays in step.
  const cookie = (await operator.context.cookies()).filter((c) => c.name === 'civreg_session')
    .map((c) => `${c.name}=${c.value}`).join('; ');
  const files = ['datapage.pdf', 'photo'];
  if (await operator.page.locator('#download-chip').count()) files.push('chip.json');
  for (const f of files) {
    const path = `/api/v1/applications/${encodeURIComponent(app)}/${f}`;
    const got = await operator.page.evaluate(async (p) => {
      const r = await fetch(p);
      return { status: r.status, len: (await r.arrayBuffer()).byteLength };
    }, path);
    assert.equal(got.status, 200, `GET ${path}`);
    const h = await headThenHealthz(server.url, path, cookie);
    assert.match(h.head, /^HTTP\/1\.1 200 /, `HEAD ${path}`);
    assert.match(h.head, new RegExp(`\r\nContent-Length: ${got.len}\r\n`), `HEAD ${path} length`);
    for (const need of [/\r\nX-Content-Type-Options: nosniff\r\n/, /\r\nX-Frame-Options: DENY\r\n/,
      /\r\nReferrer-Policy: no-referrer\r\n/, /\r\nContent-Security-Policy: [^\r]*frame-ancestors 'none'/,
      /\r\nContent-Disposition: attachment; filename="[A-Za-z0-9._-]+"\r\n/])
      assert.match(h.head, need, `HEAD ${path}: ${need}`);
    assert.equal(h.extra, 0, `HEAD ${path} sent a body`);
    assert.match(h.next, /^HTTP\/1\.1 200 [^]*"status":"ok"/, `after HEAD ${path}`);
  }
  await operator.page.click('#qc-pass');
  await waitStatus(operator.page, 'qc_passed');
  await operator.page.click('#issue');
  await waitStatus(operator.page, 'issued');
  await screenshot(operator.page, 'passport-4-issued');
  const doc = await call(operator.page, 'GET', `/documents/${number}`);
  assert.equal(doc.body.status, 'valid');

  // The auditor traces the document number to the scanned page.
  const auditor = await user('auditor');
  await auditor.page.goto(new URL(`/passport/documents/${number}/trace`, server.url).href);
  await auditor.page.waitForSelector('#chain');
  assert.match(await auditor.page.textContent('#trace-summary'), /^All \d+ events verified/);
  // The chain: document, application, approval, person, birth record, page.
  assert.deepEqual((await auditor.page.$$eval('#chain > li', (l) => l.map((e) => e.id))).slice(0, 6),
    ['chain-document', 'chain-application', 'chain-approval', 'chain-person', 'chain-record', 'chain-page']);
  const docEvents = await auditor.page.$$eval('#chain-document li.event, #chain-application li.event, #chain-approval li.event', (l) => l.map((e) => e.dataset.type));
  for (const t of ['application.enrol', 'application.approve', 'document.personalize', 'application.qc.pass', 'document.issue'])
    assert.ok(docEvents.includes(t), `trace lacks ${t}: ${docEvents}`);
  const personEvents = await auditor.page.$$eval('#chain-record li.event', (l) => l.map((e) => e.dataset.type));
  assert.ok(personEvents.includes('record.register'));
  assert.equal(await auditor.page.locator(`#chain-page figure[data-hash="${scan}"]`).count(), 1);
  assert.match(await auditor.page.textContent('#chain-approval li.event[data-type="application.approve"] .sentence'),
    /^Approved by approver Fatuma Hassan on \d{1,2} [A-Z][a-z]{2} \d{4} at \d{2}:\d{2}$/);
  await screenshot(auditor.page, 'passport-5-trace');

  // The demo office seals certified extracts: one issued for the person
  // passes the public seal check of the same office.
  const payloadPath = join(server.dir, 'extract-seal.txt');
  cli(['extract', 'issue', uin, '--user', 'clerk', '--out', join(server.dir, 'extract.pdf'),
       '--payload-out', payloadPath], 'demo\n');
  const sealed = await auditor.page.evaluate(async (text) => {
    const r = await fetch('/api/v1/seal/verify', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: text });
    return r.json();
  }, readFileSync(payloadPath, 'utf8'));
  assert.equal(sealed.valid, true, JSON.stringify(sealed));

  for (const b of open) assert.deepEqual(b.problems, [], 'browser errors');
  writeFileSync(join(server.dir, 'ok'), 'ok');
});
