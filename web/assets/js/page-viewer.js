// civreg UI: a scanned page with zoom, pan and rotate. The image is moved
// with a CSS transform (set through the CSSOM, which the page's CSP
// allows); drag to pan, wheel or buttons to zoom, buttons to rotate by
// quarter turns. Keys: + - zoom, r rotate, 0 reset, arrows pan.
import { h } from './dom.js';
import { t } from './i18n.js';

export function pageViewer(src, fullHref) {
  const state = { zoom: 1, rot: 0, x: 0, y: 0 };
  const img = h('img', { src, alt: t('keying.page'), id: 'page-image', draggable: 'false' });
  const stage = h('div', { class: 'viewer-stage', id: 'page-stage', tabindex: 0, 'aria-label': t('keying.page') }, img);
  const level = h('output', { id: 'zoom-level' }, '100 %');
  const apply = () => {
    img.style.transform = `translate(${state.x}px, ${state.y}px) rotate(${state.rot}deg) scale(${state.zoom})`;
    level.textContent = Math.round(state.zoom * 100) + ' %';
    stage.dataset.zoom = String(state.zoom);
    stage.dataset.rotation = String(state.rot);
  };
  const zoom = (f) => {
    state.zoom = Math.min(8, Math.max(0.25, state.zoom * f));
    apply();
  };
  const rotate = (d) => {
    state.rot = (state.rot + d + 360) % 360;
    apply();
  };
  const reset = () => {
    Object.assign(state, { zoom: 1, rot: 0, x: 0, y: 0 });
    apply();
  };
  let drag = null;
  stage.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX - state.x, y: e.clientY - state.y };
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener('pointermove', (e) => {
    if (!drag) return;
    state.x = e.clientX - drag.x;
    state.y = e.clientY - drag.y;
    apply();
  });
  stage.addEventListener('pointerup', () => { drag = null; });
  stage.addEventListener('wheel', (e) => {
    e.preventDefault();
    zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2);
  }, { passive: false });
  stage.addEventListener('keydown', (e) => {
    const step = 40;
    const keys = {
      '+': () => zoom(1.2), '=': () => zoom(1.2), '-': () => zoom(1 / 1.2), r: () => rotate(90), 0: reset,
      ArrowLeft: () => { state.x -= step; apply(); }, ArrowRight: () => { state.x += step; apply(); },
      ArrowUp: () => { state.y -= step; apply(); }, ArrowDown: () => { state.y += step; apply(); },
    };
    if (keys[e.key]) {
      e.preventDefault();
      keys[e.key]();
    }
  });
  const btn = (id, label, fn) => h('button', { type: 'button', id, onclick: fn }, label);
  const tools = h('div', { class: 'viewer-tools' },
    btn('zoom-in', t('keying.zoomIn'), () => zoom(1.25)),
    btn('zoom-out', t('keying.zoomOut'), () => zoom(0.8)),
    btn('rotate-left', t('keying.rotateLeft'), () => rotate(-90)),
    btn('rotate-right', t('keying.rotateRight'), () => rotate(90)),
    btn('view-reset', t('keying.reset'), reset), level,
    fullHref ? h('a', { href: fullHref, target: '_blank', rel: 'noopener', id: 'full-image' }, t('keying.full')) : null);
  apply();
  return h('section', { class: 'card viewer', id: 'page-viewer' }, tools, stage);
}
