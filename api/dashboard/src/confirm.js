// confirm.js — the modal confirmation dialog (delete).
import { h, replace } from './dom.js';

const confirmDialog = document.getElementById('confirm-dialog');

/**
 * Asks a yes/no question in a modal dialog; resolves {ok, keep} (keep: the optional
 * checkbox). Cancel has the focus first, so Enter alone never deletes.
 */
export function confirmAction({ title, text, action, checkbox }) {
  return new Promise((resolve) => {
    const box = checkbox ? h('input', { type: 'checkbox', id: 'confirm-check' }) : null;
    const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel');
    const ok = h('button', { type: 'button', class: 'danger', onclick: () => done(true) }, action);
    replace(
      confirmDialog,
      h('h2', { id: 'confirm-title' }, title),
      h('p', { id: 'confirm-text' }, text),
      box ? h('p', null, box, ' ', h('label', { for: 'confirm-check' }, checkbox)) : null,
      h('div', { class: 'dialog-buttons' }, cancel, ok),
    );
    let settled = false;
    function done(yes) {
      if (settled) return;
      settled = true;
      confirmDialog.close();
      resolve({ ok: yes, keep: box ? box.checked : false });
    }
    confirmDialog.addEventListener('close', () => done(false), { once: true });
    confirmDialog.showModal();
    cancel.focus();
  });
}

