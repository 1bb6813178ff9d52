// overview.js — every vigy at a glance: counts by state (also a filter), the label
// selector (parsed by the server) and a text search, a sortable table whose rows are
// updated in place as the watch streams deliver changes.
import { STATES, conditionChips, firstLine, labelChips, resultBadge, scheduleText, stateBadge } from './badges.js';
import { ageElement, formatMs, h, replace } from './dom.js';
import { replaceParams, vigyHref } from './route.js';
import { setSelector, stateOf, statusOf, store, subscribe } from './store.js';

const COLUMNS = [
  { key: 'name', label: 'Name', sort: (v) => v.name },
  { key: 'kind', label: 'Kind', sort: (v) => v.kind },
  { key: 'schedule', label: 'Schedule', sort: (v) => scheduleText(v) },
  { key: 'state', label: 'State', sort: (v) => STATES.indexOf(stateOf(v)) },
  { key: 'last', label: 'Last run', sort: (v) => statusOf(v).run?.ended_at || '' },
  { key: 'conditions', label: 'Conditions', sort: (v) => -[...statusOf(v).conditions.values()].filter((c) => c.status !== 'True').length },
  { key: 'labels', label: 'Labels', sort: null },
];

export function renderOverview(main, params) {
  const state = {
    q: params.get('q') || '',
    sort: COLUMNS.some((c) => c.key === params.get('sort') && c.sort) ? params.get('sort') : 'name',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
    only: STATES.includes(params.get('state')) ? params.get('state') : '',
  };
  const selectorParam = params.get('selector');
  if (selectorParam !== null && selectorParam !== store.selector) setSelector(selectorParam);

  const heading = h('h1', { id: 'overview-title', tabindex: '-1' }, 'Vigies');
  const counts = h('ul', { class: 'counts', 'aria-label': 'Vigies by state' });
  const selInput = h('input', {
    id: 'filter-selector', name: 'selector', type: 'text', value: store.selector, spellcheck: 'false',
    autocomplete: 'off', placeholder: 'app=web,tier in (front,back)', 'aria-describedby': 'filter-selector-help filter-selector-error',
  });
  const selError = h('p', { id: 'filter-selector-error', class: 'field-error', role: 'alert' });
  const qInput = h('input', {
    id: 'filter-text', name: 'q', type: 'search', value: state.q, autocomplete: 'off', placeholder: 'name, kind, label, error',
  });
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter vigies', onsubmit: (e) => { e.preventDefault(); applySelector(); } },
    h('div', { class: 'field' },
      h('label', { for: 'filter-selector' }, 'Label selector'),
      h('div', { class: 'inline' }, selInput, h('button', { type: 'submit' }, 'Apply')),
      h('p', { id: 'filter-selector-help', class: 'help' }, 'Kubernetes syntax: k=v, k!=v, k in (a,b), k notin (a,b), k, !k — press Enter to apply'),
      selError),
    h('div', { class: 'field' }, h('label', { for: 'filter-text' }, 'Search'), qInput),
  );
  const summary = h('p', { class: 'summary', role: 'status', 'aria-live': 'polite' });
  const headRow = h('tr');
  const tbody = h('tbody');
  const table = h('table', { class: 'vigies', id: 'vigies-table' }, h('caption', { class: 'sr-only' }, 'Vigies'), h('thead', null, headRow), tbody);
  const empty = h('p', { class: 'empty', hidden: true });
  const section = h('section', { class: 'overview', 'aria-labelledby': 'overview-title' },
    h('div', { class: 'title-row' }, heading), counts, filters, summary, h('div', { class: 'table-wrap' }, table), empty);
  main.append(section);
  document.title = 'Vigies — vigy';

  function saveParams() {
    const p = {};
    if (store.selector) p.selector = store.selector;
    if (state.q) p.q = state.q;
    if (state.sort !== 'name') p.sort = state.sort;
    if (state.dir !== 'asc') p.dir = state.dir;
    if (state.only) p.state = state.only;
    replaceParams(p);
  }

  function applySelector() {
    setSelector(selInput.value);
    saveParams();
    renderAll();
  }

  qInput.addEventListener('input', () => {
    state.q = qInput.value;
    saveParams();
    renderRows();
  });

  // ---- header cells: sort buttons with aria-sort ---------------------------------------
  function renderHead() {
    replace(headRow, COLUMNS.map((c) => {
      const active = state.sort === c.key;
      const th = h('th', { scope: 'col', 'aria-sort': active ? (state.dir === 'asc' ? 'ascending' : 'descending') : (c.sort ? 'none' : null) });
      if (!c.sort) return replace(th, c.label);
      return replace(th, h('button', {
        type: 'button', class: 'sort', dataset: { sort: c.key },
        onclick: () => {
          if (state.sort === c.key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
          else {
            state.sort = c.key;
            state.dir = 'asc';
          }
          saveParams();
          renderHead();
          renderRows();
        },
      }, c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (state.dir === 'asc' ? ' ▲' : ' ▼') : '')));
    }));
  }

  // ---- counts by state (toggle buttons filtering the table) ----------------------------
  function renderCounts() {
    const n = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const v of store.vigies.values()) n[stateOf(v)] = (n[stateOf(v)] || 0) + 1;
    replace(counts,
      h('li', null, h('button', { type: 'button', class: 'count', 'aria-pressed': String(!state.only), dataset: { state: '' }, onclick: () => setOnly('') },
        'All ', h('strong', null, String(store.vigies.size)))),
      STATES.map((s) => h('li', null, h('button', {
        type: 'button', class: `count count-${s}`, 'aria-pressed': String(state.only === s), dataset: { state: s }, onclick: () => setOnly(state.only === s ? '' : s),
      }, `${s} `, h('strong', null, String(n[s]))))));
  }
  function setOnly(s) {
    state.only = s;
    saveParams();
    renderCounts();
    renderRows();
    counts.querySelector(`[data-state="${s}"]`)?.focus();
  }

  // ---- rows: one <tr> per vigy, refreshed in place -------------------------------------
  const rows = new Map(); // name -> {tr, cells}

  function matches(v) {
    if (state.only && stateOf(v) !== state.only) return false;
    const q = state.q.trim().toLowerCase();
    if (!q) return true;
    const st = statusOf(v);
    const hay = [v.name, v.kind, stateOf(v), scheduleText(v), ...Object.entries(v.labels || {}).map(([k, x]) => `${k}=${x}`),
      st.run?.result, st.run?.error, ...[...st.conditions.keys()]].join('\n').toLowerCase();
    return q.split(/\s+/).every((w) => hay.includes(w));
  }

  // A row is made once per vigy; each cell is refilled only when what it shows changed,
  // so links stay put under the pointer and the focus while runs stream in.
  const CELLS = {
    kind: (v) => v.kind,
    schedule: (v) => scheduleText(v),
    state: (v) => stateBadge(v),
    last: (v) => {
      const run = statusOf(v).run;
      return run
        ? h('div', { class: 'last-run' }, resultBadge(run.result), ' ', ageElement(run.ended_at),
          h('span', { class: 'muted' }, ` · ${formatMs(run.duration_ms)}`),
          run.error ? h('div', { class: 'error-line', title: run.error }, firstLine(run.error)) : null)
        : h('span', { class: 'muted' }, 'no runs yet');
    },
    conditions: (v) => conditionChips(statusOf(v).conditions.values()),
    labels: (v) => labelChips(v.labels),
  };
  const cellKey = {
    kind: (v) => v.kind,
    schedule: (v) => JSON.stringify([v.schedule, v.tick_interval_ms]),
    state: (v) => stateOf(v),
    last: (v) => String(statusOf(v).run?.seq ?? ''),
    conditions: (v) => JSON.stringify([...statusOf(v).conditions.values()]),
    labels: (v) => JSON.stringify(v.labels),
  };
  const LABELS = { kind: 'Kind', schedule: 'Schedule', state: 'State', last: 'Last run', conditions: 'Conditions', labels: 'Labels' };

  function makeRow(v) {
    const cells = {};
    const tr = h('tr', { dataset: { name: v.name } },
      h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: vigyHref(v.name), class: 'vigy-link' }, v.name)));
    for (const k of Object.keys(CELLS)) {
      cells[k] = { td: h('td', { 'data-label': LABELS[k] }), key: null };
      tr.append(cells[k].td);
    }
    return { tr, cells };
  }

  function fillRow(r, v) {
    r.tr.dataset.state = stateOf(v);
    for (const [k, c] of Object.entries(r.cells)) {
      const key = cellKey[k](v);
      if (key === c.key) continue;
      c.key = key;
      replace(c.td, CELLS[k](v));
      if (k === 'last') {
        const run = statusOf(v).run;
        c.td.dataset.result = run?.result || '';
        c.td.dataset.seq = run ? String(run.seq) : '';
      }
    }
  }

  function renderRows() {
    const col = COLUMNS.find((c) => c.key === state.sort);
    const all = [...store.vigies.values()];
    const shown = all.filter(matches).sort((a, b) => {
      const x = col.sort(a);
      const y = col.sort(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return (state.dir === 'asc' ? c : -c) || a.name.localeCompare(b.name);
    });
    const keep = new Set(shown.map((v) => v.name));
    for (const [name, r] of rows) {
      if (!keep.has(name)) {
        r.tr.remove();
        rows.delete(name);
      }
    }
    let prev = null;
    for (const v of shown) {
      let r = rows.get(v.name);
      if (!r) {
        r = makeRow(v);
        rows.set(v.name, r);
      }
      fillRow(r, v);
      // Move a row only when it is out of place (moving a node drops its focus).
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== r.tr) tbody.insertBefore(r.tr, want);
      prev = r.tr;
    }
    table.hidden = shown.length === 0;
    empty.hidden = shown.length !== 0;
    if (!store.listed) {
      empty.textContent = 'Loading…';
      empty.hidden = false;
      table.hidden = true;
    } else if (store.listError) {
      empty.textContent = `Cannot list the vigies: ${store.listError}`;
    } else if (all.length === 0) {
      empty.textContent = store.selector ? `No vigy matches the label selector ${store.selector}.` : 'No vigies yet. Register one with `vigy register FILE --name NAME`.';
    } else {
      empty.textContent = 'No vigy matches the filters.';
    }
    summary.textContent = store.listed && !store.listError ? `Showing ${shown.length} of ${all.length} vigies` : '';
  }

  function renderSelectorError() {
    selError.textContent = store.listError ? store.listError : '';
    if (store.listError) selInput.setAttribute('aria-invalid', 'true');
    else selInput.removeAttribute('aria-invalid');
  }

  let frame = 0;
  function renderAll() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      renderCounts();
      renderRows();
      renderSelectorError();
    });
  }

  const unsubscribe = subscribe((kind) => {
    if (kind !== 'streams') renderAll();
  });
  renderHead();
  renderCounts();
  renderRows();
  renderSelectorError();
  return () => {
    unsubscribe();
    if (frame) cancelAnimationFrame(frame);
  };
}
