// civreg UI: search results. The query comes from the search box in the top
// bar (/search?q=...); the server ranks the records (GET /api/v1/search) and
// this screen lists them, best first, each linking to its record view.
import { api } from '../api.js';
import { h, name } from '../dom.js';
import { t, tn } from '../i18n.js';

// The score (0-1000) as words: the number means nothing to a clerk.
function relevance(score) {
  if (score >= 900) return 'strong';
  if (score >= 700) return 'good';
  return 'weak';
}

export async function render(app) {
  const q = (new URLSearchParams(location.search).get('q') || '').trim();
  app.append(h('h1', {}, t('search.title')));
  if (q === '') {
    app.append(h('p', { class: 'muted', id: 'search-empty' }, t('search.empty')));
    document.getElementById('search-q')?.focus();
    return;
  }
  const r = await api('GET', '/search?q=' + encodeURIComponent(q) + '&limit=50');
  const results = r.results || [];
  app.append(h('p', { id: 'search-count' }, tn('search.results', results.length, { q })));
  if (results.length === 0) {
    app.append(h('p', { class: 'muted', id: 'search-none' }, t('search.none')));
    return;
  }
  const list = h('ol', { id: 'search-results', class: 'results' });
  for (const x of results) {
    const full = `${x.given_names || ''} ${x.family_name || ''}`.trim() || x.record_id;
    const href = '/records/' + encodeURIComponent(x.record_id);
    const rel = relevance(x.score);
    list.append(h('li', { 'data-id': x.record_id, 'data-relevance': rel },
      h('a', { href }, name(full)), ' ',
      h('span', { class: 'badge ' + x.status }, t('status.' + x.status)), ' ',
      h('code', {}, x.record_id),
      h('div', { class: 'muted' },
        x.date_of_birth ? [t('search.born'), ' ', x.date_of_birth] : [],
        x.place ? [' · ', name(x.place)] : [],
        x.mother ? [' · ', t('field.mother'), ' ', name(x.mother)] : [],
        x.registration_number ? [' · ', t('record.regno'), ' ', x.registration_number] : [],
        ' · ', h('span', { class: 'relevance ' + rel }, t('search.relevance.' + rel)))));
  }
  app.append(list);
}
