// badges.js — the small pieces both views show: state and result badges, condition
// chips, label chips and the one-line schedule. Colour is never the only signal: each
// badge says its value in text and carries a glyph.
import { formatMs, h } from './dom.js';
import { stateOf } from './store.js';

const STATE_GLYPH = { Enabled: '●', Disabled: '○', Degraded: '▲', Completed: '✔' };
export const STATES = ['Enabled', 'Disabled', 'Degraded', 'Completed'];

export function stateBadge(v) {
  const s = stateOf(v);
  return h('span', { class: `badge state state-${s}` }, h('span', { 'aria-hidden': 'true' }, STATE_GLYPH[s] || '•'), ' ', s);
}

const RESULT_GLYPH = { ok: '✓', failed: '✗', skipped: '–' };
export function resultBadge(result) {
  return h('span', { class: `badge result result-${result}` }, h('span', { 'aria-hidden': 'true' }, RESULT_GLYPH[result] || '•'), ' ', result);
}

const COND_GLYPH = { True: '✓', False: '✗', Unknown: '?' };
/** A condition chip: its type, a glyph and (for screen readers) its status. */
export function conditionChip(c) {
  const status = ['True', 'False', 'Unknown'].includes(c.status) ? c.status : 'Unknown';
  const tip = [`${c.type}: ${status}`, c.reason, c.message].filter(Boolean).join(' — ');
  return h(
    'li',
    { class: `chip cond cond-${status}`, title: tip, dataset: { type: c.type, status } },
    h('span', { 'aria-hidden': 'true' }, COND_GLYPH[status]),
    ' ',
    c.type,
    h('span', { class: 'sr-only' }, ` ${status}`),
  );
}

export function conditionChips(conditions) {
  const list = [...conditions].sort((a, b) => a.type.localeCompare(b.type));
  if (list.length === 0) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'chips', 'aria-label': 'Conditions' }, list.map(conditionChip));
}

export function labelChips(labels) {
  const entries = Object.entries(labels || {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return h('span', { class: 'muted' }, '—');
  return h(
    'ul',
    { class: 'chips', 'aria-label': 'Labels' },
    entries.map(([k, v]) => h('li', { class: 'chip label' }, v === '' ? k : `${k}=${v}`)),
  );
}

function every(ms) {
  if (ms % 86400000 === 0) return `${ms / 86400000}d`;
  if (ms % 3600000 === 0) return `${ms / 3600000}h`;
  if (ms % 60000 === 0) return `${ms / 60000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return formatMs(ms).replace(' ', '');
}

/** The schedule in one line: the server's `summary` when it sends one, else built here. */
export function scheduleText(v) {
  const s = v.schedule;
  if (!s) return v.tick_interval_ms ? `every ${every(v.tick_interval_ms)}` : '—';
  if (typeof s.summary === 'string' && s.summary) return s.summary;
  const parts = [];
  if (s.kind === 'every') parts.push(`every ${every(s.every_ms || v.tick_interval_ms || 1000)}`);
  else if (s.kind === 'cron') parts.push(`cron ${s.cron || ''}${s.tz ? ` (${s.tz})` : ''}`);
  else if (s.kind === 'once') parts.push(s.at_ms ? `once at ${new Date(s.at_ms).toISOString()}` : 'once');
  if (Array.isArray(s.on) && s.on.length) parts.push(`on ${s.on.join(', ')}`);
  return parts.join(', ') || s.kind;
}

/** The first line of a run's error (the diagnostic; the source excerpt follows it). */
export function firstLine(text) {
  if (!text) return '';
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

/**
 * The program position in a run's error: "<source>:<line>:<col>: …" (the lisp
 * reconciler's diagnostics). Positions in the standard library are not the program's.
 * Returns {line, col, at} or null.
 */
export function errorPosition(error, sourceName) {
  if (!error) return null;
  const line = firstLine(error);
  if (sourceName) {
    const esc = sourceName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const m = line.match(new RegExp(`(?:^|\\s)${esc}:(\\d+):(\\d+)(?::|\\b)`));
    if (m) return { line: Number(m[1]), col: Number(m[2]), at: m.index };
  }
  const m = line.match(/(?:^|\s)([^\s:<>][^\s:]*):(\d+):(\d+):/);
  if (!m || m[1].startsWith('<stdlib')) return null;
  return { line: Number(m[2]), col: Number(m[3]), at: m.index };
}
