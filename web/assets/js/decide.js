// civreg UI: a registrar's decision on a possible duplicate, with a reason:
// the reason's text area, one button per decision and the error line. A
// decision without a reason is refused here (and by the server); a button is
// disabled while its request runs and enabled again when it fails.
import { h } from './dom.js';
import { t } from './i18n.js';

// ids: {reason, error}; buttons: [{id, label, decision, secondary}];
// send(decision, reason): the request (a promise). Returns {reason, msg, buttons}.
export function decisionForm(ids, buttons, send, maxlength) {
  const attrs = { id: ids.reason, required: true, rows: '2', dir: 'auto' };
  if (maxlength) attrs.maxlength = maxlength;
  const reason = h('textarea', attrs);
  const msg = h('p', { class: 'error', role: 'alert', id: ids.error });
  const decide = async (decision, button) => {
    msg.textContent = '';
    if (reason.value.trim() === '') {
      msg.textContent = t('dup.reason.missing');
      reason.focus();
      return;
    }
    button.disabled = true;
    try {
      await send(decision, reason.value.trim());
    } catch (e) {
      msg.textContent = e.message;
      button.disabled = false;
    }
  };
  const made = buttons.map((b) => {
    const el = h('button', b.secondary ? { type: 'button', id: b.id, class: 'secondary' } : { type: 'button', id: b.id }, b.label);
    el.addEventListener('click', () => decide(b.decision, el));
    return el;
  });
  return { reason, msg, buttons: made };
}
