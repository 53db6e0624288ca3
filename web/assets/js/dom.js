// civreg UI: DOM helpers. Every value goes in as text (textContent / text
// nodes), never as markup, so names and notes cannot become HTML or script.

// h('p', {class: 'x', onclick: fn}, 'text', child, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k.startsWith('on')) throw new Error('event handlers must be functions');
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A person's name or any free text in an unknown script: isolated for the
// bidirectional algorithm, direction taken from its own first strong
// character (Arabic right to left inside an English or French page).
export function name(text) {
  return h('bdi', { dir: 'auto', class: 'name' }, text);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// A file the server answered (a printed PDF) handed to the browser: DONE
// shows NOTE and a link to it, named as the answer's Content-Disposition
// says (else FALLBACK), and the link is clicked at once.
export async function handOver(resp, fallback, done, note, link) {
  const url = URL.createObjectURL(await resp.blob());
  const file = (resp.headers.get('Content-Disposition') || '').match(/filename="?([^";]+)/)?.[1] || fallback;
  const a = h('a', { class: 'button', href: url, download: file, id: link.id }, link.text);
  done.replaceChildren(note, a);
  a.click();
}
