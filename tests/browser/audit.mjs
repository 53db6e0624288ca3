// civreg browser tests: checks run on every screen a test opens.
//
// axeAudit(page, where): the axe-core accessibility audit (npm axe-core,
// pinned in tests/package.json) injected into the page; fails on any
// violation of impact "serious" or "critical".
//
// languageScan(page, where, lang): the visible text of a screen shown in
// French must come from the French catalogue: no text node or label holds
// a word that only the English catalogue uses, nor a whole English string
// of the catalogue. Data (names, places, numbers, ids) is shown in <bdi>,
// dir="auto" or <code> elements and is not scanned.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const i18nDir = join(here, '..', '..', 'web', 'assets', 'i18n');

export function catalogue(lang) {
  const table = {};
  for (const f of readdirSync(i18nDir).filter((n) => n === `${lang}.json` || n.startsWith(`${lang}.`)).sort())
    Object.assign(table, JSON.parse(readFileSync(join(i18nDir, f), 'utf8')));
  return table;
}

let axeSource = null;
export function axeAvailable() {
  if (axeSource) return true;
  try {
    const require = createRequire(import.meta.url);
    axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    return true;
  } catch {
    return false;
  }
}

export async function axeAudit(page, where) {
  if (!axeAvailable()) throw new Error('axe-core is missing (install/deps.sh runs npm install in tests/)');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length)
    throw new Error(`accessibility (${where}): ` + bad.map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`).join('; '));
  return result;
}

const words = (s) => (String(s).replace(/\{[a-z_]+\}/gi, ' ').toLowerCase().match(/\p{L}[\p{L}'’-]*/gu) || []);

// Words of the English catalogue that the French one never uses (at least
// four letters, so "page", "date", "type" and the like, shared by both
// languages, drop out because the French catalogue uses them too).
export function englishOnly() {
  const en = catalogue('en');
  const fr = catalogue('fr');
  const frWords = new Set(Object.values(fr).flatMap(words));
  const only = new Set(Object.values(en).flatMap(words).filter((w) => w.length >= 4 && !frWords.has(w)));
  const strings = new Set(Object.entries(en).filter(([k, v]) => fr[k] !== v && words(v).length >= 2).map(([, v]) => v.trim()));
  return { only, strings };
}

export async function languageScan(page, where) {
  const { only, strings } = englishOnly();
  const texts = await page.evaluate(() => {
    const out = [];
    const skip = (el) => !el || el.closest('bdi, [dir="auto"], code, pre, script, style, noscript, #lang, .mrz, [data-data]');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.nodeValue.trim() || skip(el)) continue;
      if (el.checkVisibility && !el.checkVisibility()) continue;
      out.push(n.nodeValue.trim());
    }
    for (const el of document.querySelectorAll('[placeholder], [aria-label], [alt], [title]')) {
      if (skip(el) && !el.matches('[dir="auto"][placeholder], [dir="auto"][aria-label]')) continue;
      for (const a of ['placeholder', 'aria-label', 'alt', 'title'])
        if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
    out.push(document.title);
    return out;
  });
  const found = [];
  for (const text of texts) {
    const w = words(text).filter((x) => only.has(x));
    if (w.length || strings.has(text)) found.push(`"${text}"${w.length ? ` (${w.join(', ')})` : ''}`);
  }
  if (found.length) throw new Error(`English on a French screen (${where}): ${[...new Set(found)].join('; ')}`);
  return texts.length;
}
