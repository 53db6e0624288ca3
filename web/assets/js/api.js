// civreg UI: calls to the JSON API. State-changing requests carry the
// session's CSRF token in X-CSRF-Token; the session cookie is HttpOnly and
// never seen here.

import { currentLang, has, t } from './i18n.js';

let csrf = document.querySelector('meta[name="civreg-csrf"]')?.content || '';

export function setCsrf(token) {
  csrf = token || '';
}

// The actions of the access policy (docs/access.md) the signed-in user may
// take, sent with the session: screens show only what may(action) allows.
let actions = new Set();

export function setActions(list) {
  actions = new Set(list || []);
}

export function may(action) {
  return actions.has(action);
}

// For requests made without fetch (upload progress needs XMLHttpRequest).
export function csrfToken() {
  return csrf;
}

// The text for a server error: the catalogue's, in the user's language,
// for the error's code (with the field it names); the server's English
// message only when the catalogue has no text for the code, and as the
// detail of the generic codes in English.
const GENERIC = new Set(['rejected', 'bad_request', 'conflict', 'forbidden', 'not_found']);

export function errorText(code, message, field) {
  if (!has('error.' + code)) return message;
  const section = field && field.includes('.') ? field.split('.')[0] : null;
  const fname = !field ? '' : has('field.' + field)
    ? (section && has('field.' + section) ? `${t('field.' + section)} · ${t('field.' + field)}` : t('field.' + field)) : field;
  const text = t('error.' + code, { field: fname });
  return GENERIC.has(code) && currentLang() === 'en' && message ? `${text} (${message})` : text;
}

export class ApiError extends Error {
  constructor(status, code, message, retryAfter, body) {
    super(errorText(code, message, body?.error?.field));
    this.serverMessage = message;
    this.field = body?.error?.field;
    this.body = body;
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// BODY: an object (sent as JSON) or a Blob/File (sent as is, with its type).
// The answer when it is ok; else an ApiError from its JSON error.
async function send(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin', cache: 'no-store' };
  if (body instanceof Blob) {
    opts.headers['Content-Type'] = body.type || 'application/octet-stream';
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') opts.headers['X-CSRF-Token'] = csrf;
  const r = await fetch('/api/v1' + path, opts);
  if (!r.ok) {
    let data = null;
    try {
      data = await r.json();
    } catch {
      data = null;
    }
    throw new ApiError(r.status, data?.error?.code || 'http_' + r.status,
                       data?.error?.message || r.statusText, r.headers.get('Retry-After'), data);
  }
  return r;
}

// The JSON answer (null when the answer is not JSON).
export async function api(method, path, body) {
  const r = await send(method, path, body);
  try {
    return await r.json();
  } catch {
    return null;
  }
}

// A file answer (a printed PDF): the response itself, for handOver.
export function apiFile(method, path, body) {
  return send(method, path, body);
}
