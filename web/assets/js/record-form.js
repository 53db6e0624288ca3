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

function input(path, example, value) {
  const id = 'f-' + path.replaceAll('.', '-');
  let el;
  if (typeof example === 'boolean') {
    el = h('input', { id, name: path, type: 'checkbox', 'data-kind': 'bool' });
    el.checked = value === true;
  } else if (typeof example === 'number') {
    el = h('input', { id, name: path, type: 'number', 'data-kind': 'int', step: 1 });
    if (value !== undefined && value !== null) el.value = String(value);
  } else {
    el = h('input', { id, name: path, type: 'text', dir: 'auto', 'data-kind': 'text', maxlength: 400 });
    if (value !== undefined && value !== null) el.value = String(value);
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label(path)), el);
}

// A form for SHAPE, filled with VALUES (may be empty). Evidence is not
// keyed here: it is the scans the record is keyed from.
export function recordForm(shapeObj, values = {}) {
  const form = h('div', { class: 'record-form' });
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
  for (const el of form.querySelectorAll('input[data-kind]')) {
    const path = el.name.split('.');
    let v;
    if (el.dataset.kind === 'bool') v = el.checked;
    else if (el.dataset.kind === 'int') {
      if (el.value === '') continue;
      v = Number.parseInt(el.value, 10);
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
