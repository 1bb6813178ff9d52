// store.js — what the dashboard knows, kept current by two watch streams and nothing
// else (no polling):
//   * the vigies: listed once (GET /v1/vigies, every page, with the label selector),
//     then watched from the list's resource_version (ADDED / MODIFIED / DELETED);
//   * each vigy's latest run and conditions: read once per vigy (GET …/state), then
//     from the runs watch (GET /v1/watch/runs), which is opened *before* the reads so
//     no run can fall between them; a run replaces what is known only if its seq is
//     newer.
// Views subscribe and re-render on change.
import { request, seg } from './api.js';
import { WatchStream } from './sse.js';

const listeners = new Set();

export const store = {
  /** name -> Vigy, as the API shows it. */
  vigies: new Map(),
  /** vigy_id -> {run (the latest), conditions: Map(type -> Condition)} */
  status: new Map(),
  /** The label selector the list and the watch are filtered by ('' = all). */
  selector: '',
  /** null, or the message of the last list failure (e.g. a malformed selector). */
  listError: null,
  listed: false,
  /** Stream states, for the connection indicator. */
  streams: { vigies: 'connecting', runs: 'connecting' },
  /** Runs seen since the page opened, for the live counters. */
  runsSeen: 0,
};

/** Calls f(kind, detail) on every change: 'vigies', 'run' (detail: the run), 'streams'. */
export function subscribe(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

function emit(kind, detail) {
  for (const f of listeners) f(kind, detail);
}

/** A vigy's lifecycle state: the API's `state`, else from `enabled`. */
export function stateOf(v) {
  return v.state || (v.enabled ? 'Enabled' : 'Disabled');
}

export function statusOf(v) {
  return store.status.get(v.id) || { run: null, conditions: new Map() };
}

/**
 * Folds a run (or a state read) into what is known of a vigy: nothing when `run` is
 * older than the run already known; else the run becomes the latest and its
 * conditions replace those of the same type (last_transition kept while the status
 * stays, Kubernetes-style).
 */
function mergeStatus(vigyId, run, conditions) {
  const cur = store.status.get(vigyId) || { run: null, conditions: new Map() };
  if (run && cur.run && run.seq <= cur.run.seq) return false;
  if (run) cur.run = run;
  for (const c of conditions || []) {
    const old = cur.conditions.get(c.type);
    const lt = c.last_transition ?? (old && old.status === c.status ? old.last_transition : undefined);
    cur.conditions.set(c.type, lt ? { ...c, last_transition: lt } : c);
  }
  store.status.set(vigyId, cur);
  return true;
}

const runsWatch = new WatchStream(() => 'v1/watch/runs', {
  onEvent({ type, data }) {
    if (type !== 'run' || !data || data.seq === undefined) return;
    store.runsSeen++;
    if (mergeStatus(data.vigy_id, data, data.conditions)) emit('run', data);
  },
  onState(s, detail) {
    store.streams.runs = s;
    emit('streams', detail);
  },
  onGone() {
    // Missed runs were pruned: start again from now and read the states again.
    runsWatch.start();
    readStates([...store.vigies.values()]);
  },
});

function vigiesPath(resourceVersion) {
  const q = new URLSearchParams({ watch: 'true' });
  if (store.selector) q.set('label_selector', store.selector);
  if (resourceVersion) q.set('resource_version', resourceVersion);
  return `v1/vigies?${q}`;
}

let listedVersion = null;
const vigiesWatch = new WatchStream(() => vigiesPath(listedVersion), {
  onEvent({ type, data }) {
    const kind = (data && data.type) || type;
    if (!data || !data.object || kind === 'BOOKMARK' || kind === 'bookmark') return;
    const v = data.object;
    if (kind === 'DELETED') {
      store.vigies.delete(v.name);
      store.status.delete(v.id);
    } else {
      const isNew = !store.vigies.has(v.name);
      store.vigies.set(v.name, v);
      if (isNew) readStates([v]);
    }
    emit('vigies', v.name);
  },
  onState(s, detail) {
    store.streams.vigies = s;
    emit('streams', detail);
  },
  onGone() {
    relist();
  },
});

let listGeneration = 0;

/** Lists every vigy (all pages) with the selector, then watches from the list's version. */
async function relist() {
  const gen = ++listGeneration;
  vigiesWatch.stop();
  const items = [];
  let cont = '';
  let version = null;
  try {
    do {
      const q = new URLSearchParams({ limit: '500' });
      if (store.selector) q.set('label_selector', store.selector);
      if (cont) q.set('continue', cont);
      const page = await request('GET', `v1/vigies?${q}`);
      if (gen !== listGeneration) return;
      items.push(...page.items);
      version = version || page.metadata.resource_version;
      cont = page.metadata.continue || '';
    } while (cont);
  } catch (e) {
    if (gen !== listGeneration) return;
    store.listError = e.message;
    store.listed = true;
    store.vigies.clear();
    emit('vigies');
    return;
  }
  store.listError = null;
  store.listed = true;
  store.vigies = new Map(items.map((v) => [v.name, v]));
  listedVersion = version;
  emit('vigies');
  // The watch resumes from the list's version; on reconnects the stream's own
  // Last-Event-ID takes over.
  vigiesWatch.start(null);
  readStates(items);
}

/** Reads …/state of each vigy (4 at a time) for its latest run and conditions. */
async function readStates(vigies) {
  const queue = [...vigies];
  const worker = async () => {
    while (queue.length) {
      const v = queue.shift();
      try {
        const st = await request('GET', `v1/vigies/${seg(v.name)}/state`);
        if (mergeStatus(v.id, st.last_run || null, st.conditions)) emit('vigies', v.name);
      } catch (e) {
        if (e.status !== 404) console.warn(`state of ${v.name}: ${e.message}`);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

let started = false;
/** Opens the streams and lists (once per page). */
export function start() {
  if (started) return;
  started = true;
  runsWatch.start();
  relist();
}

/** Filters the list and the watch by a label selector (the server parses it). */
export function setSelector(sel) {
  const s = sel.trim();
  if (s === store.selector && store.listed) return;
  store.selector = s;
  store.listed = false;
  relist();
}

/** Reads one vigy (for a page opened on a vigy outside the selector). */
export function fetchVigy(name) {
  return request('GET', `v1/vigies/${seg(name)}`);
}

/** The vigy `name` if the overview knows it. */
export function knownVigy(name) {
  return store.vigies.get(name) || null;
}

/** Applies a vigy read by a page (e.g. after enable/disable) to the store. */
export function putVigy(v) {
  if (!v || !v.name) return;
  if (store.vigies.has(v.name)) {
    store.vigies.set(v.name, v);
    emit('vigies', v.name);
  }
}

/** The run a page received (tick now) before the watch delivers it. */
export function putRun(run) {
  if (run && mergeStatus(run.vigy_id, run, run.conditions)) emit('run', run);
}
