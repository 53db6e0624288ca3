// civreg UI: the birth record form, generated from the shape of the
// registry's example record (GET /api/v1/records/example), so the form
// follows the registry's fields. Labels come from the strings table
// (field.<section>.<name>), falling back to the field's name.
import { api } from './api.js';
import { h } from './dom.js';
import { has, t } from './i18n.js';

let shape = null;

export async function recordShape() {
  if (!shape) shape = await api('GET', '/records/example');
  return shape;
}

export function label(path) {
  const key = 'field.' + path;
  return has(key) ? t(key) : path.split('.').pop().replaceAll('_', ' ');
}

// The registry's enumerations (registry/record_fields.c) as pick-lists, the
// informant's relationship as a list with the usual answers, the fields the
// registry requires when their section is there, and the date fields.
const CHOICES = {
  'child.sex': ['female', 'male', 'not_stated'],
  'birth.place_type': ['facility', 'home', 'other'],
  'birth.type': ['single', 'twin', 'triplet', 'quadruplet', 'other'],
  'informant.relationship': ['mother', 'father', 'grandmother', 'grandfather', 'aunt', 'uncle', 'sibling',
                             'midwife', 'health_worker', 'neighbour', 'other'],
};
const REQUIRED = new Set(['child.given_names', 'child.family_name', 'child.sex', 'birth.date', 'birth.place_type',
  'birth.locality', 'birth.district', 'mother.given_names', 'mother.family_name', 'register.office',
  'register.year', 'register.volume', 'register.page', 'register.entry']);
const DATES = new Set(['birth.date', 'mother.date_of_birth', 'father.date_of_birth', 'registration_date']);

// A date as the registers write it (2026-12-05, 05/12/2026, 5.12.2026,
// 12/2026, 2026) in the registry's form (YYYY-MM-DD, YYYY-MM or YYYY);
// null when it is none of these.
export function isoDate(text) {
  const s = text.trim();
  let m;
  if ((m = s.match(/^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/))) return iso(m[1], m[2], m[3]);
  if ((m = s.match(/^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$/))) return iso(m[3], m[2], m[1]);
  if ((m = s.match(/^(\d{1,2})[./-](\d{4})$/))) return iso(m[2], m[1]);
  return null;
}

function iso(y, mo, d) {
  const p = (x) => String(Number(x)).padStart(2, '0');
  if (mo === undefined) return y;
  if (Number(mo) < 1 || Number(mo) > 12) return null;
  if (d === undefined) return `${y}-${p(mo)}`;
  const dt = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (dt.getUTCMonth() !== Number(mo) - 1 || dt.getUTCDate() !== Number(d)) return null;
  return `${y}-${p(mo)}-${p(d)}`;
}

function choiceLabel(path, v) {
  const key = `choice.${path.split('.').pop()}.${v}`;
  return has(key) ? t(key) : v.replaceAll('_', ' ');
}

function input(path, example, value) {
  const id = 'f-' + path.replaceAll('.', '-');
  const required = REQUIRED.has(path);
  const hintId = id + '-hint';
  let el;
  let hint = null;
  if (CHOICES[path]) {
    const opts = [...CHOICES[path]];
    if (value && !opts.includes(value)) opts.push(value);
    el = h('select', { id, name: path, 'data-kind': 'text' }, h('option', { value: '' }, t('form.choose')),
      opts.map((v) => h('option', { value: v, selected: v === value }, choiceLabel(path, v))));
  } else if (typeof example === 'boolean') {
    el = h('input', { id, name: path, type: 'checkbox', 'data-kind': 'bool' });
    el.checked = value === true;
  } else if (typeof example === 'number') {
    el = h('input', { id, name: path, type: 'number', 'data-kind': 'int', step: 1, min: 1 });
    if (value !== undefined && value !== null) el.value = String(value);
  } else if (DATES.has(path)) {
    el = h('input', { id, name: path, type: 'text', 'data-kind': 'date', inputmode: 'numeric', autocomplete: 'off',
                      maxlength: 10, 'aria-describedby': hintId });
    hint = h('p', { class: 'hint', id: hintId }, t('form.dateHint'));
    if (value !== undefined && value !== null) el.value = String(value);
    el.addEventListener('blur', () => {
      const v = isoDate(el.value);
      if (el.value.trim() !== '' && v) el.value = v;
    });
  } else {
    el = h('input', { id, name: path, type: 'text', dir: 'auto', 'data-kind': 'text', maxlength: 400 });
    if (value !== undefined && value !== null) el.value = String(value);
  }
  if (required) el.setAttribute('aria-required', 'true');
  return h('div', { class: 'field' }, h('label', { for: id }, label(path),
    required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null), el, hint);
}

// A form for SHAPE, filled with VALUES (may be empty). Evidence is not
// keyed here: it is the scans the record is keyed from.
export function recordForm(shapeObj, values = {}) {
  const form = h('div', { class: 'record-form' });
  form.append(h('p', { class: 'hint required-note' }, h('span', { class: 'req', 'aria-hidden': 'true' }, '* '),
    t('form.requiredNote')));
  for (const [key, ex] of Object.entries(shapeObj)) {
    if (key === 'evidence') continue;
    if (ex && typeof ex === 'object' && !Array.isArray(ex)) {
      const fs = h('fieldset', { 'data-section': key }, h('legend', {}, label(key)));
      for (const [k2, ex2] of Object.entries(ex)) fs.append(input(`${key}.${k2}`, ex2, values?.[key]?.[k2]));
      form.append(fs);
    } else {
      form.append(input(key, ex, values?.[key]));
    }
  }
  return form;
}

// Read the form back into a record; empty fields are left out so the
// registry names what is missing.
export function readRecord(form, evidence = []) {
  const rec = {};
  for (const el of form.querySelectorAll('[data-kind]')) {
    const path = el.name.split('.');
    let v;
    if (el.dataset.kind === 'bool') v = el.checked;
    else if (el.dataset.kind === 'int') {
      if (el.value === '') continue;
      v = Number.parseInt(el.value, 10);
    } else if (el.dataset.kind === 'date') {
      if (el.value.trim() === '') continue;
      v = isoDate(el.value) || el.value.trim();
    } else {
      if (el.value === '') continue;
      v = el.value;
    }
    if (path.length === 2) {
      rec[path[0]] = rec[path[0]] || {};
      rec[path[0]][path[1]] = v;
    } else rec[path[0]] = v;
  }
  rec.evidence = evidence;
  return rec;
}

// A value as text: yes/no for booleans, lists joined, deeper objects as
// "name: value" pairs (never "[object Object]").
function show(v) {
  if (v === true) return t('value.yes');
  if (v === false) return t('value.no');
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.map(show).join(', ');
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k.replaceAll('_', ' ')}: ${show(x)}`).join(' · ');
  return String(v);
}

// A read-only view of a record: one definition list per section.
export function recordView(rec) {
  const box = h('div', { class: 'record-view' });
  for (const [key, v] of Object.entries(rec || {})) {
    if (key === 'evidence') continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const dl = h('dl', {});
      for (const [k2, v2] of Object.entries(v)) {
        dl.append(h('dt', {}, label(`${key}.${k2}`)), h('dd', { dir: 'auto', 'data-field': `${key}.${k2}` }, show(v2)));
      }
      box.append(h('section', { class: 'card' }, h('h3', {}, label(key)), dl));
    } else {
      box.append(h('p', {}, h('strong', {}, label(key) + ': '), h('span', { dir: 'auto', 'data-field': key }, show(v))));
    }
  }
  return box;
}

export function errorBox() {
  return h('p', { class: 'error', role: 'alert', id: 'form-error' });
}

// A field's name in a message: its section, then its label.
function fieldName(path) {
  return path.includes('.') ? `${label(path.split('.')[0])} · ${label(path)}` : label(path);
}

// The field of PATH in FIELDS, with its error paragraph beside it.
function fieldError(fields, path) {
  const el = fields.querySelector(`[name="${CSS.escape(path)}"]`);
  if (!el) return null;
  const id = el.id + '-error';
  let p = document.getElementById(id);
  if (!p) {
    p = h('p', { class: 'field-error', id });
    el.after(p);
  }
  const described = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
  el.setAttribute('aria-describedby', [...described, id].join(' '));
  return { el, p };
}

function clearMarks(fields) {
  for (const p of fields.querySelectorAll('.field-error')) p.textContent = '';
  for (const el of fields.querySelectorAll('[data-kind][aria-invalid]')) el.removeAttribute('aria-invalid');
}

function mark(fields, path, text) {
  const f = fieldError(fields, path);
  if (!f) return null;
  f.el.setAttribute('aria-invalid', 'true');
  f.p.textContent = text;
  return f.el;
}

// The checks the browser makes before sending (the registry makes them
// again): required fields filled, dates in a form the registers use.
// Marks each field at fault beside it; returns whether all is well.
export function checkForm(fields, errEl) {
  clearMarks(fields);
  let first = null;
  for (const el of fields.querySelectorAll('[data-kind]')) {
    const path = el.name;
    const empty = el.dataset.kind !== 'bool' && el.value.trim() === '';
    let text = null;
    if (empty && el.getAttribute('aria-required') === 'true') text = t('form.required');
    else if (!empty && el.dataset.kind === 'date' && !isoDate(el.value)) text = t('error.date_format', { field: fieldName(path) });
    if (text) first = first || mark(fields, path, text);
  }
  if (first) {
    errEl.textContent = t('form.fix');
    first.focus();
    return false;
  }
  return true;
}

// The body to send: the record, and the clerk's confirmation of warnings
// once they have been shown and ticked.
export function recordBody(fields, evidence, extra = {}) {
  const body = { record: readRecord(fields, evidence), ...extra };
  if (fields.querySelector('#confirm-warnings')?.checked) body.confirm_warnings = true;
  return body;
}

// A refusal of the registry shown where it belongs: beside the field it
// names, or as warnings (each beside its field) the clerk confirms with a
// tick after checking the page. Falls back to ERREL.
export function showError(fields, errEl, e) {
  clearMarks(fields);
  fields.querySelector('#warnings-box')?.remove();
  const warnings = e.body?.error?.warnings;
  if (e.code === 'plausibility' && Array.isArray(warnings)) {
    let first = null;
    for (const w of warnings)
      first = first || mark(fields, w.field, t('warning.' + w.code, { field: fieldName(w.field), years: w.years }));
    const box = h('div', { id: 'warnings-box', class: 'card warn', role: 'group', 'aria-labelledby': 'warnings-title' },
      h('h2', { id: 'warnings-title' }, t('warning.title')),
      h('ul', {}, warnings.map((w) => h('li', { 'data-code': w.code, 'data-field': w.field },
        t('warning.' + w.code, { field: fieldName(w.field), years: w.years })))),
      h('input', { type: 'checkbox', id: 'confirm-warnings' }), ' ',
      h('label', { for: 'confirm-warnings', class: 'check-inline' }, t('warning.confirm')));
    fields.append(box);
    errEl.textContent = t('warning.summary');
    (first || box).focus();
    return;
  }
  if (e.field) {
    const el = mark(fields, e.field, e.message);
    if (el) {
      errEl.textContent = t('form.fix');
      el.focus();
      return;
    }
  }
  errEl.textContent = e.message;
}

// The submit of a record form: the browser's checks (CHECK first when
// given, then checkForm), then SEND() with the button disabled meanwhile.
// A refusal goes to ONERROR when it handles it (returns true), else beside
// its field (showError).
export function submitRecord(form, fields, err, submit, send, { check, onError } = {}) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    if (check && !check()) return;
    if (!checkForm(fields, err)) return;
    submit.disabled = true;
    try {
      await send();
    } catch (e) {
      if (!onError || !onError(e)) showError(fields, err, e);
    } finally {
      submit.disabled = false;
    }
  });
}
