// civreg UI: the record list with filters (state, office, dates of birth).
import { api, may } from '../api.js';
import { h, name } from '../dom.js';
import { t } from '../i18n.js';

const PAGE = 50;

export async function render(app, { session }) {
  const params = new URLSearchParams(location.search);
  const status = h('select', { id: 'filter-status', name: 'status' },
    ['', 'draft', 'verified', 'registered'].map((s) =>
      h('option', { value: s, selected: params.get('status') === s }, s ? t('status.' + s) : t('records.any'))));
  const office = h('input', { id: 'filter-office', name: 'office', value: params.get('office') || '', maxlength: 8, size: 8 });
  const from = h('input', { id: 'filter-from', name: 'from', type: 'date', value: params.get('from') || '' });
  const to = h('input', { id: 'filter-to', name: 'to', type: 'date', value: params.get('to') || '' });
  const offset = Number.parseInt(params.get('offset') || '0', 10) || 0;
  const form = h('form', { class: 'filters', id: 'filters', method: 'get', action: '/records' },
    h('label', { for: 'filter-status' }, t('records.status')), status,
    h('label', { for: 'filter-office' }, t('records.office')), office,
    h('label', { for: 'filter-from' }, t('records.from')), from,
    h('label', { for: 'filter-to' }, t('records.to')), to,
    h('button', { type: 'submit' }, t('records.filter')));
  const header = h('div', { class: 'row' }, h('h1', {}, t('records.title')));
  if (may('record.draft')) header.append(h('a', { class: 'button', href: '/records/new', id: 'new-record' }, t('records.new')));
  app.append(header, form);

  const q = new URLSearchParams();
  for (const [k, v] of params) if (v && ['status', 'office', 'from', 'to'].includes(k)) q.set(k, v);
  q.set('limit', String(PAGE));
  q.set('offset', String(offset));
  const { records } = await api('GET', '/records?' + q.toString());
  const table = h('table', { id: 'records' },
    h('thead', {}, h('tr', {}, ['records.id', 'records.name', 'records.dob', 'records.status', 'records.regno', 'records.updated'].map((k) => h('th', {}, t(k))))),
    h('tbody', {}, records.map((r) => h('tr', { 'data-status': r.status },
      h('td', {}, h('a', { href: '/records/' + encodeURIComponent(r.id) }, r.id)),
      h('td', {}, name(`${r.given_names || ''} ${r.family_name || ''}`.trim())),
      h('td', {}, r.date_of_birth || ''),
      h('td', {}, h('span', { class: 'badge ' + r.status }, t('status.' + r.status))),
      h('td', {}, r.registration_number || ''),
      h('td', {}, r.updated_at || '')))));
  app.append(table);
  if (records.length === 0) app.append(h('p', { id: 'no-records' }, t('records.none')));
  const nav = h('p', { class: 'pager' });
  const link = (off, label) => {
    const p = new URLSearchParams(params);
    p.set('offset', String(off));
    return h('a', { href: '/records?' + p.toString() }, label);
  };
  if (offset > 0) nav.append(link(Math.max(0, offset - PAGE), t('records.prev')), ' ');
  if (records.length === PAGE) nav.append(link(offset + PAGE, t('records.next')));
  app.append(nav);
}
