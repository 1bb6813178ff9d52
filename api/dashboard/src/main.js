// main.js — the dashboard's entry: the hash router (#/ the overview, #/vigies/NAME one
// vigy), the header's connection indicator, the token prompt and the confirmation
// dialog. Views render into <main>; each returns a function that tears it down.
import './style.css';
import { onTokenChange, setToken, setTokenPrompter, token } from './api.js';
import { h, refreshAges, replace } from './dom.js';
import { renderOverview } from './overview.js';
import { start, store, subscribe } from './store.js';
import { route } from './route.js';
import { renderVigy } from './vigy.js';

const main = document.getElementById('main');
let teardown = null;

let lastView = null;
let lastName = null;
function render() {
  const r = route();
  // A change of only the query (e.g. ?line=) on the same vigy page is handled by the view.
  if (r.view === lastView && r.name === lastName && teardown && teardown.onParams) {
    teardown.onParams(r.params);
    return;
  }
  if (teardown) teardown();
  lastView = r.view;
  lastName = r.name;
  main.replaceChildren();
  teardown = r.view === 'vigy' ? renderVigy(main, r.name, r.params) : renderOverview(main, r.params);
  // After a navigation (not on the first load) the new view's heading takes the focus,
  // so keyboard and screen-reader users land at its start.
  const heading = main.querySelector('h1');
  if (heading && navigated) {
    window.scrollTo(0, 0);
    heading.focus({ preventScroll: true });
  }
  navigated = true;
}
let navigated = false;

// ---- connection indicator -------------------------------------------------------------

const conn = document.getElementById('conn');
function renderConn() {
  const s = Object.values(store.streams);
  let text;
  let cls;
  if (s.every((x) => x === 'open')) {
    text = 'Live';
    cls = 'live';
  } else if (s.some((x) => x === 'error')) {
    text = 'Stream error — retrying';
    cls = 'down';
  } else if (s.some((x) => x === 'retrying')) {
    text = 'Reconnecting…';
    cls = 'down';
  } else {
    text = 'Connecting…';
    cls = 'wait';
  }
  if (conn.textContent !== text) conn.textContent = text;
  conn.className = `conn ${cls}`;
}
subscribe((kind) => {
  if (kind === 'streams') renderConn();
});

// ---- token prompt -----------------------------------------------------------------------

const dialog = document.getElementById('token-dialog');
const form = document.getElementById('token-form');
const input = document.getElementById('token-input');
const reason = document.getElementById('token-reason');
const forget = document.getElementById('token-forget');
let resolveToken = null;

setTokenPrompter((invalid) => {
  reason.textContent = invalid
    ? 'The server refused the token. Enter the token from the server\u2019s token file.'
    : 'This server requires a bearer token. Enter the token from the server\u2019s token file (vigy serve --token-file).';
  return new Promise((resolve) => {
    resolveToken = resolve;
    input.value = '';
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
});

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const t = input.value.trim();
  if (!t) {
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  input.removeAttribute('aria-invalid');
  dialog.close();
  const r = resolveToken;
  resolveToken = null;
  if (r) r(t);
});

document.getElementById('token-cancel').addEventListener('click', () => dialog.close());
dialog.addEventListener('close', () => {
  if (resolveToken) showTokenBanner();
});

function showTokenBanner() {
  const banner = document.getElementById('banner');
  replace(
    banner,
    h('p', null, 'The server needs a token to show anything. '),
    h('button', { type: 'button', onclick: () => { banner.hidden = true; dialog.showModal(); input.focus(); } }, 'Enter token'),
  );
  banner.hidden = false;
}

function renderForget() {
  forget.hidden = !token();
}
forget.addEventListener('click', () => {
  setToken(null);
  location.reload();
});
onTokenChange(() => {
  renderForget();
  document.getElementById('banner').hidden = true;
});

// ---- start ----------------------------------------------------------------------------------

renderForget();
renderConn();
window.addEventListener('hashchange', render);
setInterval(() => refreshAges(main), 1000);
start();
render();
