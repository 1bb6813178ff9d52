// dom.js — building DOM without innerHTML (every text goes through a text node, so
// names, labels, errors and program source can never inject markup) and the small
// formatting helpers the views share.

/**
 * h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more]) -> element.
 * Attributes: `class`, `text`, `on<event>` (listener), booleans (true = present,
 * false/null/undefined = absent), everything else as a string attribute.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** "850 µs", "12.4 ms", "1.25 s", "2 min 5 s" for a duration in milliseconds. */
export function formatMs(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '—';
  const a = Math.abs(ms);
  if (a < 1) return `${Math.round(ms * 1000)} µs`;
  if (a < 100) return `${+ms.toFixed(1)} ms`;
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60000) return `${+(ms / 1000).toFixed(2)} s`;
  return formatSpan(ms);
}

/** "45 s", "3 min", "2 h 5 min", "4 d 1 h" for a span in milliseconds (coarse). */
export function formatSpan(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 && m < 10 ? `${m} min ${s % 60} s` : `${m} min`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return m % 60 ? `${hr} h ${m % 60} min` : `${hr} h`;
  const d = Math.floor(hr / 24);
  return hr % 24 ? `${d} d ${hr % 24} h` : `${d} d`;
}

/** "just now", "12 s ago", "3 min ago" for an RFC 3339 time (or "" when absent). */
export function formatAge(iso, now = Date.now()) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = now - t;
  if (d < 1500) return 'just now';
  if (d < 0) return `in ${formatSpan(-d)}`;
  return `${formatSpan(d)} ago`;
}

/** "2026-12-01 09:00:00 UTC" style absolute time in the browser's zone. */
export function formatTime(iso) {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return t.toLocaleString(undefined, {
    year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
  });
}

/** A <time> element showing the age, with the absolute time as its tooltip. */
export function ageElement(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: formatTime(iso), class: 'age' }, formatAge(iso));
}

/** Refreshes every age element under `root` (called once a second; no network). */
export function refreshAges(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time.age')) {
    const text = formatAge(el.getAttribute('datetime'), now);
    if (el.textContent !== text) el.textContent = text;
  }
}

/** Pretty JSON for display. */
export function json(value) {
  return JSON.stringify(value, null, 2);
}
