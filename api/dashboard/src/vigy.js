// vigy.js — one vigy in depth: its spec and program source (line numbers; a failed
// run's line:col links to and highlights the line), conditions, kv, events, the recent
// runs (each expandable to every buffer of the run), a live tail from the runs watch,
// plots of tick duration, lateness and the program's metrics, and the actions tick
// now / enable / disable / delete (confirmed).
import { request, seg } from './api.js';
import { conditionChip, errorPosition, firstLine, labelChips, resultBadge, scheduleText, stateBadge } from './badges.js';
import { lineChart } from './chart.js';
import { confirmAction } from './confirm.js';
import { ageElement, formatMs, h, json, replace } from './dom.js';
import { vigyHref } from './route.js';
import { fetchVigy, knownVigy, putRun, putVigy, store, subscribe } from './store.js';

const RUN_LIMITS = [50, 100, 500];
const MAX_METRIC_CHARTS = 8;

export function renderVigy(main, name, params) {
  const page = {
    vigy: knownVigy(name),
    runs: [], // newest first
    limit: RUN_LIMITS.includes(Number(params.get('runs'))) ? Number(params.get('runs')) : 100,
    follow: true,
    pending: [], // runs held back while "follow" is off
    open: new Set(params.get('run') ? [params.get('run')] : []),
    line: Number(params.get('line')) || 0,
    deleted: false,
    destroyed: false,
  };

  const heading = h('h1', { id: 'vigy-title', tabindex: '-1' }, name);
  const titleState = h('span', { class: 'title-state' });
  const message = h('p', { class: 'action-message', role: 'status', 'aria-live': 'polite' });
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' });
  const body = h('div', { class: 'vigy-body' }, h('p', { class: 'muted' }, 'Loading…'));
  main.append(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('ol', null,
      h('li', null, h('a', { href: '#/' }, 'Vigies')), h('li', null, h('span', { 'aria-current': 'page' }, name)))),
    h('div', { class: 'title-row' }, heading, titleState), actions, message, body);
  document.title = `${name} — vigy`;

  // ---- sections (built once, filled as data arrives) ---------------------------------------
  const section = (id, title, ...content) =>
    h('section', { class: 'panel', id, 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), ...content);

  const summary = h('dl', { class: 'facts' });
  const lastError = h('div', { class: 'last-error', hidden: true });
  const conditionsBody = h('div');
  const followBox = h('input', { type: 'checkbox', id: 'follow-runs', checked: true });
  const pendingButton = h('button', { type: 'button', class: 'secondary', hidden: true });
  const limitSelect = h('select', { id: 'runs-limit' }, RUN_LIMITS.map((n) => h('option', { value: String(n), selected: n === page.limit }, String(n))));
  const runsBody = h('tbody');
  const runsTable = h('table', { class: 'runs', id: 'runs-table' },
    h('caption', { class: 'sr-only' }, 'Recent runs, newest first'),
    h('thead', null, h('tr', null, ['Run', 'Started', 'Trigger', 'Result', 'Duration', 'Lateness', 'Actions', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
    runsBody);
  const runsEmpty = h('p', { class: 'muted', hidden: true }, 'No runs yet.');
  const charts = {
    duration: lineChart({ id: 'chart-duration', title: 'Tick duration', unit: 'ms', color: '--series-1' }),
    lateness: lineChart({ id: 'chart-lateness', title: 'Lateness', unit: 'ms', color: '--series-2' }),
  };
  const metricCharts = new Map();
  const metricsWrap = h('div', { class: 'charts' });
  const sourceBody = h('div');
  const kvBody = h('div');
  const eventsBody = h('div');
  const specBody = h('div');

  const sections = [
    section('summary', 'Summary', summary, lastError),
    section('conditions', 'Conditions', conditionsBody),
    section('plots', 'Plots', h('div', { class: 'charts' }, charts.duration.el, charts.lateness.el), metricsWrap),
    section('source', 'Program', sourceBody),
    section('runs', 'Recent runs',
      h('div', { class: 'toolbar' },
        h('span', { class: 'check' }, followBox, h('label', { for: 'follow-runs' }, 'Follow new runs (live)')),
        pendingButton,
        h('span', null, h('label', { for: 'runs-limit' }, 'Runs shown '), limitSelect)),
      h('div', { class: 'table-wrap scroll', tabindex: '0', role: 'region', 'aria-label': 'Recent runs table' }, runsTable), runsEmpty),
    section('kv', 'Key-value store', kvBody),
    section('events', 'Events', eventsBody),
    section('spec', 'Spec', specBody),
  ];

  // ---- actions ----------------------------------------------------------------------------
  const busy = new Set();
  const button = (id, text, cls, fn) => h('button', { type: 'button', id, class: cls, onclick: () => act(id, fn) }, text);
  const tickButton = button('action-tick', 'Tick now', 'primary', tickNow);
  const enableButton = button('action-enable', 'Enable', 'secondary', () => setEnabled(true));
  const disableButton = button('action-disable', 'Disable', 'secondary', () => setEnabled(false));
  const deleteButton = button('action-delete', 'Delete…', 'danger', remove);
  actions.append(tickButton, enableButton, disableButton, deleteButton);

  async function act(id, fn) {
    if (busy.has(id)) return;
    busy.add(id);
    renderActions();
    try {
      await fn();
    } catch (e) {
      say(`${e.message}`, true);
    } finally {
      busy.delete(id);
      renderActions();
    }
  }

  function say(text, error = false) {
    message.textContent = text;
    message.classList.toggle('error', error);
  }

  async function tickNow() {
    say('Ticking…');
    const run = await request('POST', `v1/vigies/${seg(name)}/tick`);
    addRun(run, true);
    putRun(run);
    say(run.result === 'ok'
      ? `Tick ${run.seq}: ok in ${formatMs(run.duration_ms)}`
      : `Tick ${run.seq}: ${run.result}${run.error ? ` — ${firstLine(run.error)}` : ''}`, run.result === 'failed');
  }

  async function setEnabled(on) {
    const v = await request('POST', `v1/vigies/${seg(name)}/${on ? 'enable' : 'disable'}`);
    if (v && v.name) {
      page.vigy = v;
      putVigy(v);
    } else {
      page.vigy = await fetchVigy(name);
      putVigy(page.vigy);
    }
    renderVigyParts();
    // The pressed button is now unavailable: hand the focus to its counterpart.
    const pressed = on ? enableButton : disableButton;
    if (document.activeElement === pressed || document.activeElement === document.body) (on ? disableButton : enableButton).focus();
    say(on ? 'Enabled' : 'Disabled');
  }

  async function remove() {
    const r = await confirmAction({
      title: `Delete ${name}?`,
      text: 'The vigy stops ticking and is removed. This cannot be undone.',
      action: 'Delete',
      checkbox: 'Keep its runs, kv and events',
    });
    if (!r.ok) return;
    await request('DELETE', `v1/vigies/${seg(name)}${r.keep ? '?keep_history=true' : ''}`);
    page.deleted = true;
    location.hash = '#/';
  }

  function renderActions() {
    const v = page.vigy;
    const none = !v || page.deleted;
    // A button stays focusable while its own action runs (disabling it would drop the
    // focus); act() ignores a second press meanwhile.
    tickButton.disabled = none;
    enableButton.disabled = none || v.enabled;
    disableButton.disabled = none || !v.enabled;
    deleteButton.disabled = none;
    for (const b of [tickButton, enableButton, disableButton, deleteButton]) b.setAttribute('aria-busy', String(busy.has(b.id)));
  }

  // ---- spec, summary, source -----------------------------------------------------------------
  function sourceOf(v) {
    const c = v.config;
    if (c && typeof c === 'object' && typeof c.program === 'string') return { text: c.program, name: c.source_name || v.name };
    if (typeof c === 'string') return { text: c, name: v.name };
    return null;
  }

  function renderVigyParts() {
    const v = page.vigy;
    if (!v) return;
    replace(titleState, stateBadge(v));
    const fact = (k, ...val) => [h('dt', null, k), h('dd', null, ...val)];
    const limits = Object.entries(v.limits || {}).filter(([, x]) => x);
    replace(summary,
      fact('Kind', v.kind),
      fact('Schedule', scheduleText(v)),
      fact('State', stateBadge(v)),
      fact('Labels', labelChips(v.labels)),
      fact('Grants', v.grants && v.grants.length ? v.grants.join(', ') : h('span', { class: 'muted' }, 'the six standard extensions')),
      fact('Limits', limits.length ? limits.map(([k, x]) => `${k} ${x}`).join(', ') : h('span', { class: 'muted' }, 'defaults')),
      fact('Revision', h('code', null, v.revision)),
      fact('Resource version', h('code', null, v.resource_version)),
      fact('Created', ageElement(v.created_at)),
      fact('Updated', ageElement(v.updated_at)),
      fact('Id', h('code', null, v.id)));
    replace(specBody, h('pre', { class: 'json', tabindex: '0', 'aria-label': 'Spec as JSON' }, json(v)));
    renderSource();
    renderActions();
  }

  let sourceKey = null;
  let focusedLine = 0;
  function renderSource() {
    const v = page.vigy;
    const src = sourceOf(v);
    const latest = page.runs[0];
    const pos = latest && latest.result === 'failed' ? errorPosition(latest.error, src?.name) : null;
    const key = JSON.stringify([src?.text, page.line, pos, pos && firstLine(latest.error)]);
    if (key === sourceKey) return;
    sourceKey = key;
    if (!src) {
      replace(sourceBody, h('p', { class: 'muted' }, `A ${v.kind} vigy has no program source; its config:`),
        h('pre', { class: 'json', tabindex: '0' }, json(v.config ?? null)));
      return;
    }
    const lines = src.text.split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    const highlight = page.line || 0;
    const code = h('code', null, lines.map((text, i) => {
      const n = i + 1;
      const mark = n === highlight;
      const errHere = pos && pos.line === n;
      return h('span', {
        class: `line${mark ? ' hl' : ''}${errHere ? ' err' : ''}`, id: `L${n}`, dataset: { line: String(n) },
        tabindex: mark ? '-1' : null, 'aria-current': mark ? 'true' : null,
      }, text, '\n',
      errHere && latest ? h('span', { class: 'annot', role: 'note' }, `${' '.repeat(Math.max(0, pos.col - 1))}^ ${firstLine(latest.error).slice(pos.at).replace(/^\s*\S+:\d+:\d+:\s*/, '')}\n`) : null);
    }));
    replace(sourceBody,
      h('p', { class: 'muted' }, h('code', null, src.name), ` — ${lines.length} line${lines.length === 1 ? '' : 's'}`),
      h('pre', { class: 'source', tabindex: '0', 'aria-label': `Program source ${src.name}` }, code));
    // Scroll to and focus a line when it is asked for (a link, the address), not on
    // every later redraw.
    if (highlight && highlight !== focusedLine) {
      focusedLine = highlight;
      const el = sourceBody.querySelector(`#L${highlight}`);
      if (el) requestAnimationFrame(() => {
        el.scrollIntoView({ block: 'center' });
        el.focus({ preventScroll: true });
      });
    }
  }

  let lastErrorKey = null;
  function renderLastError() {
    const latest = page.runs[0];
    if (!latest || latest.result !== 'failed' || !latest.error) {
      lastError.hidden = true;
      return;
    }
    const src = page.vigy && sourceOf(page.vigy);
    const pos = errorPosition(latest.error, src?.name);
    // Redrawn only when the error changes, so the link stays put under the pointer.
    const key = JSON.stringify([latest.error, pos]);
    if (key === lastErrorKey && !lastError.hidden) return;
    lastErrorKey = key;
    replace(lastError,
      h('h3', null, 'The latest run failed'),
      h('pre', { class: 'error-text', tabindex: '0' }, latest.error),
      pos ? h('p', null, h('a', { href: vigyHref(name, { line: pos.line }), class: 'line-link', dataset: { line: String(pos.line) } },
        `Show line ${pos.line}:${pos.col} in the program`)) : null);
    lastError.hidden = false;
  }

  // ---- conditions, kv, events ------------------------------------------------------------------
  function table(cls, caption, cols, rows) {
    return h('div', { class: 'table-wrap' }, h('table', { class: cls },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows)));
  }

  function renderConditions(items) {
    if (!items.length) {
      replace(conditionsBody, h('p', { class: 'muted' }, 'No conditions declared.'));
      return;
    }
    replace(conditionsBody, table('conditions', 'Conditions', ['Type', 'Status', 'Reason', 'Message', 'Last transition'],
      items.map((c) => h('tr', { dataset: { type: c.type } },
        h('th', { scope: 'row' }, c.type),
        h('td', null, h('ul', { class: 'chips' }, conditionChip({ ...c, type: c.status }))),
        h('td', null, c.reason || ''),
        h('td', null, c.message || ''),
        h('td', null, ageElement(c.last_transition))))));
  }

  function compact(value) {
    const s = JSON.stringify(value);
    return s && s.length > 200 ? `${s.slice(0, 200)}…` : s;
  }

  function renderKv(items) {
    if (!items.length) {
      replace(kvBody, h('p', { class: 'muted' }, 'No kv entries.'));
      return;
    }
    replace(kvBody, table('kv', 'Key-value entries', ['Key', 'Value', 'Updated'],
      items.map((e) => h('tr', null, h('th', { scope: 'row' }, h('code', null, e.key)),
        h('td', null, h('code', { title: JSON.stringify(e.value) }, compact(e.value))), h('td', null, ageElement(e.updated_at))))));
  }

  function renderEvents(items) {
    if (!items.length) {
      replace(eventsBody, h('p', { class: 'muted' }, 'No events.'));
      return;
    }
    replace(eventsBody, table('events', 'Events, newest first', ['Type', 'Reason', 'Message', 'Count', 'First seen', 'Last seen'],
      items.map((e) => h('tr', { class: `event-${e.type}` }, h('td', null, e.type), h('td', null, e.reason), h('td', null, e.message || ''),
        h('td', { class: 'num' }, String(e.count)), h('td', null, ageElement(e.first_seen)), h('td', null, ageElement(e.last_seen))))));
  }

  // kv, conditions and events are read again after runs of this vigy: at most once a
  // second, and once more after the last run of a burst.
  let sideAt = 0;
  let sideTimer = 0;
  async function readSide() {
    sideAt = Date.now();
    const [kv, conds, events] = await Promise.all([
      request('GET', `v1/vigies/${seg(name)}/kv`),
      request('GET', `v1/vigies/${seg(name)}/conditions`),
      request('GET', `v1/vigies/${seg(name)}/events?limit=100`),
    ]);
    if (page.destroyed) return;
    renderKv(kv.items);
    renderConditions(conds.items);
    renderEvents(events.items);
  }
  function scheduleSide() {
    if (sideTimer) return;
    const wait = Math.max(0, 1000 - (Date.now() - sideAt));
    sideTimer = setTimeout(() => {
      sideTimer = 0;
      readSide().catch((e) => say(e.message, true));
    }, wait);
  }

  // ---- runs ---------------------------------------------------------------------------------------
  const runRows = new Map(); // seq -> {tr, detail}

  function addRun(run, fromAction = false) {
    if (!run || page.runs.some((r) => r.seq === run.seq)) return;
    if (!page.follow && !fromAction) {
      if (!page.pending.some((r) => r.seq === run.seq)) page.pending.push(run);
      renderPending();
      return;
    }
    page.runs.unshift(run);
    page.runs.sort((a, b) => b.seq - a.seq);
    page.runs.length = Math.min(page.runs.length, page.limit);
    renderRuns(run.seq);
    scheduleSide();
  }

  function renderPending() {
    pendingButton.hidden = page.pending.length === 0;
    pendingButton.textContent = `Show ${page.pending.length} new run${page.pending.length === 1 ? '' : 's'}`;
  }
  pendingButton.addEventListener('click', () => {
    const p = page.pending;
    page.pending = [];
    renderPending();
    page.runs = [...p, ...page.runs].sort((a, b) => b.seq - a.seq).slice(0, page.limit);
    renderRuns();
    scheduleSide();
  });
  followBox.addEventListener('change', () => {
    page.follow = followBox.checked;
    if (page.follow && page.pending.length) pendingButton.click();
  });
  limitSelect.addEventListener('change', () => {
    page.limit = Number(limitSelect.value);
    loadRuns().catch((e) => say(e.message, true));
  });

  function buffers(run) {
    const parts = [];
    const add = (title, content) => parts.push(h('div', { class: 'buffer' }, h('h3', null, title), content));
    const pre = (text) => h('pre', { tabindex: '0' }, text);
    const nonEmpty = (x) => x !== undefined && x !== null && !(Array.isArray(x) && x.length === 0) && !(typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 0) && x !== '';
    add('Run', h('dl', { class: 'facts' },
      ['id', 'seq', 'revision', 'trigger', 'tick_count', 'started_at', 'ended_at'].filter((k) => run[k] !== undefined)
        .map((k) => [h('dt', null, k), h('dd', null, h('code', null, String(run[k])))])));
    if (nonEmpty(run.error)) add('Error', h('pre', { class: 'error-text', tabindex: '0' }, run.error));
    if (nonEmpty(run.output)) add('Output', pre(run.output));
    if (nonEmpty(run.log)) add('Log', pre(run.log.map((l) => `${l.level.padEnd(5)} ${l.message}`).join('\n')));
    for (const [k, title] of [['actions', 'Actions'], ['desired', 'Desired'], ['observed', 'Observed'], ['conditions', 'Conditions'],
      ['events', 'Events'], ['metrics', 'Metrics'], ['trace', 'Trace'], ['kv_writes', 'kv writes'], ['kv_deletes', 'kv deletes']]) {
      if (nonEmpty(run[k])) add(title, pre(json(run[k])));
    }
    return parts;
  }

  function runRow(run, fresh) {
    const detailId = `run-${run.seq}-detail`;
    const open = page.open.has(run.id);
    const src = page.vigy && sourceOf(page.vigy);
    const pos = run.result === 'failed' ? errorPosition(run.error, src?.name) : null;
    const toggle = h('button', {
      type: 'button', class: 'disclosure', 'aria-expanded': String(open), 'aria-controls': detailId,
      'aria-label': `Run ${run.seq}: show every buffer`,
    }, h('span', { 'aria-hidden': 'true' }, open ? '▾ ' : '▸ '), `#${run.seq}`);
    const detail = h('tr', { class: 'run-detail', id: detailId, hidden: !open },
      h('td', { colspan: '8' }, open ? buffers(run) : null));
    toggle.addEventListener('click', () => {
      const now = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(now));
      toggle.firstChild.textContent = now ? '▾ ' : '▸ ';
      if (now) {
        page.open.add(run.id);
        replace(detail.firstChild, buffers(run));
      } else page.open.delete(run.id);
      detail.hidden = !now;
    });
    const tr = h('tr', { class: `run result-row-${run.result}${fresh ? ' fresh' : ''}`, dataset: { seq: String(run.seq), result: run.result } },
      h('th', { scope: 'row' }, toggle),
      h('td', null, ageElement(run.started_at)),
      h('td', null, run.trigger || ''),
      h('td', null, resultBadge(run.result)),
      h('td', { class: 'num' }, formatMs(run.duration_ms)),
      h('td', { class: 'num' }, run.lateness_ms === undefined ? '—' : formatMs(run.lateness_ms)),
      h('td', { class: 'num' }, String((run.actions || []).length)),
      h('td', { class: 'error-cell' }, run.error ? [h('span', { title: run.error }, firstLine(run.error)),
        pos ? [' ', h('a', { href: vigyHref(name, { line: pos.line }), class: 'line-link', dataset: { line: String(pos.line) } }, `line ${pos.line}:${pos.col}`)] : null] : ''));
    return { tr, detail };
  }

  function renderRuns(freshSeq) {
    const keep = new Set(page.runs.map((r) => r.seq));
    for (const [seq, r] of runRows) {
      if (!keep.has(seq)) {
        r.tr.remove();
        r.detail.remove();
        runRows.delete(seq);
      }
    }
    let at = runsBody.firstChild;
    for (const run of page.runs) {
      let r = runRows.get(run.seq);
      if (!r) {
        r = runRow(run, run.seq === freshSeq);
        runRows.set(run.seq, r);
      }
      if (at !== r.tr) runsBody.insertBefore(r.tr, at);
      if (r.tr.nextSibling !== r.detail) runsBody.insertBefore(r.detail, r.tr.nextSibling);
      at = r.detail.nextSibling;
    }
    runsTable.hidden = page.runs.length === 0;
    runsEmpty.hidden = page.runs.length !== 0;
    renderPlots();
    renderLastError();
    renderSource();
  }

  function renderPlots() {
    const asc = [...page.runs].reverse().filter((r) => r.result !== 'skipped');
    const t = (r) => Date.parse(r.started_at) / 1000;
    charts.duration.update(asc.map((r) => ({ t: t(r), y: r.duration_ms })));
    charts.lateness.update(asc.filter((r) => r.lateness_ms !== undefined).map((r) => ({ t: t(r), y: r.lateness_ms })));
    const keys = new Set();
    for (const r of asc) for (const k of Object.keys(r.metrics || {})) keys.add(k);
    for (const k of [...keys].sort().slice(0, MAX_METRIC_CHARTS)) {
      if (!metricCharts.has(k)) {
        const c = lineChart({ id: `chart-metric-${k.replace(/[^A-Za-z0-9_-]/g, '_')}`, title: `Metric ${k}`, unit: '', color: '--series-3' });
        metricCharts.set(k, c);
        metricsWrap.append(c.el);
      }
      metricCharts.get(k).update(asc.filter((r) => r.metrics && typeof r.metrics[k] === 'number').map((r) => ({ t: t(r), y: r.metrics[k] })));
    }
  }

  async function loadRuns() {
    const list = await request('GET', `v1/vigies/${seg(name)}/runs?order=desc&limit=${page.limit}`);
    if (page.destroyed) return;
    const seen = new Map(page.runs.map((r) => [r.seq, r]));
    for (const r of list.items) seen.set(r.seq, r);
    page.runs = [...seen.values()].sort((a, b) => b.seq - a.seq).slice(0, page.limit);
    renderRuns();
  }

  // ---- loading and live updates -----------------------------------------------------------------
  const unsubscribe = subscribe((kind, detail) => {
    if (page.destroyed) return;
    if (kind === 'run' && detail && page.vigy && detail.vigy_id === page.vigy.id) addRun(detail);
    if (kind === 'vigies' && (detail === name || detail === undefined)) {
      const v = store.vigies.get(name);
      if (v && v.resource_version !== page.vigy?.resource_version) {
        page.vigy = v;
        renderVigyParts();
      } else if (!v && detail === name && page.vigy && !page.deleted) {
        page.deleted = true;
        say(`${name} was deleted.`, true);
        renderActions();
      }
    }
  });

  async function load() {
    try {
      page.vigy = page.vigy || (await fetchVigy(name));
    } catch (e) {
      if (page.destroyed) return;
      replace(body, h('p', { class: 'error' }, e.status === 404 ? `There is no vigy named ${name}.` : `Cannot read ${name}: ${e.message}`),
        h('p', null, h('a', { href: '#/' }, 'Back to every vigy')));
      renderActions();
      return;
    }
    if (page.destroyed) return;
    replace(body, sections);
    renderVigyParts();
    await Promise.all([loadRuns(), readSide()]);
  }
  renderActions();
  load().catch((e) => !page.destroyed && say(e.message, true));

  const teardown = () => {
    page.destroyed = true;
    unsubscribe();
    clearTimeout(sideTimer);
    for (const c of [...Object.values(charts), ...metricCharts.values()]) c.destroy();
  };
  teardown.onParams = (p) => {
    const line = Number(p.get('line')) || 0;
    if (line !== page.line) {
      page.line = line;
      renderSource();
    }
  };
  return teardown;
}
