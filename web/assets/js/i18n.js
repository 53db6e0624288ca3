// civreg UI: English and French strings. The tables are JSON files beside
// this module (i18n/en.json, i18n/fr.json); a missing key shows the key.

const assets = document.querySelector('meta[name="civreg-assets"]')?.content || '/static';
const supported = ['en', 'fr'];
let table = {};
let lang = 'en';

export async function loadStrings(wanted) {
  lang = supported.includes(wanted) ? wanted : 'en';
  // The screens' strings, then the server's error codes and the forms'
  // messages, then the passport office's screens: one table.
  const parts = await Promise.all(['', '.errors', '.passport'].map(async (part) => {
    const r = await fetch(`${assets}/i18n/${lang}${part}.json`);
    return r.ok ? r.json() : {};
  }));
  table = Object.assign({}, ...parts);
  document.documentElement.lang = lang;
  return lang;
}

// Whether the catalogue has KEY (for screens that fall back to another text).
export function has(key) {
  return Object.hasOwn(table, key);
}

// t('signin.welcome', {name: 'Amira'}): {name} placeholders filled as text.
// A key missing from the catalogue is shown as the key and reported as a
// console error, which every browser test fails on: no screen shows a
// string that is in neither language's catalogue.
export function t(key, vars = {}) {
  if (!Object.hasOwn(table, key)) console.error(`i18n: no string "${key}" in the ${lang} catalogue`);
  let s = Object.hasOwn(table, key) ? table[key] : key;
  for (const [k, v] of Object.entries(vars)) s = s.split('{' + k + '}').join(String(v));
  return s;
}

// tn('search.results', 2, {q}): the plural form of the user's language
// (Intl.PluralRules: "1 result", "0 résultat"), key + '.one' or '.other',
// with {n} filled.
export function tn(key, n, vars = {}) {
  const form = new Intl.PluralRules(lang).select(n) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}`, { ...vars, n });
}

export function currentLang() {
  return lang;
}

export const languages = [
  { code: 'en', label: 'English' },
  { code: 'fr', label: 'Français' },
];
