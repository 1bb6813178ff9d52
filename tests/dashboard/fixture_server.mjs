// tests/dashboard/fixture_server.mjs — a stand-in for `vigy serve` while the /v1 routes
// are not written yet (phase 1 of the dashboard): it serves the built dashboard the way
// the real server must (assets without the token, Content-Security-Policy, ETags) and
// answers the /v1 routes the dashboard uses with the shapes of the OpenAPI document,
// from four in-memory vigies that "tick" on a timer. With --openapi every JSON body it
// sends (watch events included) is validated against the document; a violation is
// printed and makes the server exit 1 when stopped, so the fixture cannot drift from
// the contract unnoticed.
//
//   node fixture_server.mjs --assets DIR [--token T] [--openapi FILE --node-dir DIR] [--tick-ms N]
// Prints {"event":"listening","url":...} and {"event":"ready"} like `vigy serve -o json`.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROGRAMS } from './lib/browser.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
if (!args.assets) {
  console.error('usage: node fixture_server.mjs --assets DIR [--token T] [--openapi FILE --node-dir DIR] [--tick-ms N]');
  process.exit(2);
}
const tickMs = Number(args['tick-ms'] || 700);

// ---- contract check ------------------------------------------------------------------------
let validator = null;
const violations = [];
if (args.openapi) {
  const lib = await import(pathToFileURL(join(args['node-dir'], 'lib', 'openapi.mjs')).href);
  validator = await lib.openapiValidator(JSON.parse(readFileSync(args.openapi, 'utf8')));
}
function checkBody(method, template, status, body) {
  if (!validator) return;
  const errs = validator.validateResponse(method, template, status, 'application/json', body);
  for (const e of errs) violations.push(`${method} ${template} ${status}: ${e}`);
}
function checkSchema(name, body, what) {
  if (!validator) return;
  for (const e of validator.validateSchema(name, body)) violations.push(`${what}: ${e}`);
}

// ---- assets ------------------------------------------------------------------------------------
const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', txt: 'text/plain; charset=utf-8' };
const assets = new Map();
for (const f of readdirSync(args.assets)) {
  const body = readFileSync(join(args.assets, f));
  assets.set(`/${f}`, { body, type: TYPES[f.split('.').pop()] || 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` });
}
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// ---- data -------------------------------------------------------------------------------------
const { hello: HELLO, failing: FAILING } = PROGRAMS;
const now = () => Date.now();
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, (m) => m);
let changeSeq = 10;
let runSeq = 0;
const vigies = new Map();
const runStreams = new Set(); // open runs watches
const vigyStreams = new Set(); // open vigies watches
const runs = []; // every run, seq order
const kv = new Map(); // name -> Map(key -> {value, updated_at})
const events = new Map(); // name -> [Event]

function idOf(name) {
  return createHash('sha256').update(name).digest('hex').slice(0, 16);
}
function addVigy(name, { kind = 'lisp', program = null, config = null, every = 1000, enabled = true, state = null, labels = {}, schedule = null }) {
  const t = iso(now() - 3600_000);
  const v = {
    id: idOf(name), name, kind, config: program ? { program, source_name: name } : config, revision: idOf(`${name}/${program || kind}`),
    resource_version: String(++changeSeq), tick_interval_ms: every, schedule: schedule || { kind: 'every', every_ms: every },
    enabled, state: state || (enabled ? 'Enabled' : 'Disabled'), labels, grants: [], limits: {}, created_at: t, updated_at: t,
  };
  vigies.set(name, v);
  kv.set(name, new Map());
  events.set(name, []);
  return v;
}
addVigy('hello', { program: HELLO, labels: { app: 'demo', tier: 'web' } });
addVigy('failing', { program: FAILING, state: 'Degraded', labels: { app: 'demo', tier: 'batch' } });
addVigy('paused', { kind: 'noop', config: {}, every: 5000, enabled: false, labels: { app: 'other' } });
addVigy('nightly-report', { program: '(vigy-noop)\n', enabled: true, state: 'Completed', labels: { app: 'other' },
  schedule: { kind: 'once', at_ms: now() - 1800_000 } });

function conditionsFor(v, result) {
  // As the runtime does: a failed tick commits no buffers, so no conditions.
  if (result !== 'ok') return [];
  if (v.name === 'hello') return [{ type: 'Ready', status: 'True', reason: 'Ticking', message: 'all good', last_transition: v.created_at },
    { type: 'Synced', status: 'Unknown', reason: 'NoPeer', message: 'no peer to compare with', last_transition: v.created_at },
    { type: 'Stalled', status: 'False', reason: 'Moving', message: 'the queue drains', last_transition: v.created_at }];
  return [];
}

function tick(v, trigger, at = now()) {
  const started = at;
  const n = runs.filter((r) => r.vigy_id === v.id).length + 1;
  const failing = v.name === 'failing';
  const duration = failing ? 0.2 + Math.random() * 0.1 : 0.3 + ((n * 37) % 11) / 10;
  const run = {
    id: `0190${String(++runSeq).padStart(12, '0')}-7000-8000-000000000000`.slice(0, 36), seq: runSeq, vigy_id: v.id, vigy_name: v.name,
    revision: v.revision, trigger, started_at: iso(started), ended_at: iso(started + Math.ceil(duration)), duration_ms: +duration.toFixed(3),
    lateness_ms: trigger === 'forced' ? 0 : +((n * 13) % 5 + 0.25).toFixed(2), result: failing ? 'failed' : 'ok', tick_count: n,
    actions: failing ? [] : [{ kind: 'noop', result: 'ok' }], conditions: conditionsFor(v, failing ? 'failed' : 'ok'),
    log: [{ level: 'info', message: failing ? 'about to fail' : `tick ${n}` }],
  };
  if (failing) {
    run.error = 'failing:4:3: unbound symbol frobnicate (in (frobnicate x))\n 4 |   (frobnicate x)\n   |   ^';
    run.output = '';
  } else if (v.name === 'hello') {
    run.metrics = { queue_depth: n % 7 };
    run.kv_writes = { ticks: n };
    run.desired = { ticks: n };
    run.observed = { ticks: n - 1 };
    run.events = n % 5 === 1 ? [{ type: 'Normal', reason: 'Milestone', message: 'another five ticks' }] : [];
    kv.get(v.name).set('ticks', { value: n, updated_at: run.ended_at });
    if (n % 5 === 1) bumpEvent(v.name, 'Normal', 'Milestone', 'another five ticks', run.ended_at);
  }
  if (failing) bumpEvent(v.name, 'Warning', 'TickFailed', 'unbound symbol frobnicate', run.ended_at);
  runs.push(run);
  checkSchema('Run', run, `run ${run.seq}`);
  for (const s of runStreams) sendRun(s, run);
  return run;
}
function bumpEvent(name, type, reason, message, at) {
  const list = events.get(name);
  const e = list.find((x) => x.type === type && x.reason === reason && x.message === message);
  if (e) {
    e.count++;
    e.last_seen = at;
  } else list.unshift({ vigy_id: idOf(name), type, reason, message, count: 1, first_seen: at, last_seen: at });
  list.sort((a, b) => b.last_seen.localeCompare(a.last_seen));
}
// some history, then a run every tickMs for each enabled, ticking vigy
for (let i = 0; i < 30; i++) for (const v of vigies.values()) if (v.enabled && v.state !== 'Completed') tick(v, 'schedule', now() - (30 - i) * tickMs);
tick(vigies.get('nightly-report'), 'schedule', now() - 1800_000);
const timer = setInterval(() => {
  for (const v of vigies.values()) if (v.enabled && v.state !== 'Completed') tick(v, 'schedule');
}, tickMs);

// ---- HTTP ---------------------------------------------------------------------------------------
function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}
function problem(res, status, code, detail, path, headers) {
  const titles = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 405: 'Method Not Allowed', 410: 'Gone' };
  send(res, status, { type: 'about:blank', title: titles[status] || 'Error', status, code, detail, instance: path }, headers);
}

function selectorMatch(sel, labels) {
  // Equality, inequality, existence only: enough for the fixture's tests. The real
  // server parses the full Kubernetes syntax.
  for (const term of sel.split(',').map((t) => t.trim())) {
    let m;
    if ((m = term.match(/^([^!=\s]+)\s*(==?|!=)\s*(\S*)$/))) {
      const eq = labels[m[1]] === m[3];
      if (m[2] === '!=' ? eq : !eq) return false;
    } else if ((m = term.match(/^!([^\s=]+)$/))) {
      if (m[1] in labels) return false;
    } else if (/^[A-Za-z0-9._/-]+$/.test(term)) {
      if (!(term in labels)) return false;
    } else throw new Error(`invalid label selector ${JSON.stringify(sel)}: cannot parse term ${JSON.stringify(term)}`);
  }
  return true;
}

function sse(res, id, event, data, schema) {
  checkSchema(schema, data, `watch event ${event}`);
  res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
function sendRun(s, run) {
  if (run.seq <= s.after) return;
  if (s.vigy && run.vigy_id !== s.vigy && run.vigy_name !== s.vigy) return;
  s.after = run.seq;
  sse(s.res, run.seq, 'run', run, 'RunWatchEvent');
}
function vigyEvent(type, v) {
  for (const s of vigyStreams) {
    if (s.selector && !selectorMatch(s.selector, v.labels)) continue;
    sse(s.res, v.resource_version, type, { type, object: v }, 'VigyWatchEvent');
  }
}
function openStream(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no', Connection: 'close' });
  res.write('retry: 2000\n\n');
}
function touch(v) {
  v.resource_version = String(++changeSeq);
  v.updated_at = iso(now());
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://fixture');
  const path = url.pathname;
  if (req.method === 'GET' && (path === '/' || assets.has(path))) {
    const a = assets.get(path === '/' ? '/index.html' : path);
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, { ETag: a.etag });
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': a.type, 'Content-Length': a.body.length, ETag: a.etag, 'Cache-Control': 'no-cache',
      'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    return res.end(a.body);
  }
  if (path === '/livez') return send(res, 200, { status: 'ok' });
  if (args.token) {
    const auth = req.headers.authorization;
    if (!auth) return problem(res, 401, 'unauthenticated', 'this server requires a bearer token', path, { 'WWW-Authenticate': 'Bearer realm="vigy"' });
    if (auth !== `Bearer ${args.token}`) return problem(res, 401, 'unauthenticated', 'the bearer token is not valid', path, { 'WWW-Authenticate': 'Bearer realm="vigy", error="invalid_token"' });
  }
  try {
    route(req, res, url, path);
  } catch (e) {
    problem(res, 400, 'invalid-argument', e.message, path);
  }
});

function route(req, res, url, path) {
  const q = url.searchParams;
  const lastEventId = req.headers['last-event-id'];
  if (path === '/v1/watch/runs' && req.method === 'GET') {
    const cursor = lastEventId ?? q.get('after_seq');
    const s = { res, after: cursor === null || cursor === undefined ? runSeq : Number(cursor), vigy: q.get('vigy') };
    openStream(req, res);
    // A new watch without a cursor starts at the newest run: a bookmark says where.
    if (cursor === null || cursor === undefined) sse(res, runSeq, 'bookmark', { seq: runSeq }, 'RunWatchEvent');
    for (const r of runs) sendRun(s, r);
    runStreams.add(s);
    req.on('close', () => runStreams.delete(s));
    return;
  }
  if (path === '/v1/vigies' && req.method === 'GET') {
    const sel = q.get('label_selector') || '';
    const items = [...vigies.values()].filter((v) => !sel || selectorMatch(sel, v.labels)).sort((a, b) => a.name.localeCompare(b.name));
    if (q.get('watch') === 'true') {
      const s = { res, selector: sel };
      openStream(req, res);
      vigyStreams.add(s);
      req.on('close', () => vigyStreams.delete(s));
      return;
    }
    const body = { items, metadata: { resource_version: String(changeSeq) } };
    checkBody('GET', '/v1/vigies', 200, body);
    return send(res, 200, body);
  }
  const m = path.match(/^\/v1\/vigies\/([^/]+)(?:\/([a-z]+))?$/);
  if (!m) return problem(res, 404, 'not-found', `no route ${path}`, path);
  const name = decodeURIComponent(m[1]);
  const sub = m[2] || '';
  const v = vigies.get(name) || [...vigies.values()].find((x) => x.id === name);
  const tpl = `/v1/vigies/{name}${sub ? `/${sub}` : ''}`;
  if (!v) return problem(res, 404, 'not-found', `vigy ${name} not found`, path);
  const reply = (status, body) => {
    checkBody(req.method, tpl, status, body);
    send(res, status, body, body && body.resource_version ? { ETag: `"${body.resource_version}"` } : {});
  };
  const own = runs.filter((r) => r.vigy_id === v.id);
  if (req.method === 'GET' && sub === '') return reply(200, v);
  if (req.method === 'GET' && sub === 'state') {
    const last = own[own.length - 1] || null;
    return reply(200, { vigy_id: v.id, name: v.name, desired: last?.desired || {}, observed: last?.observed || {}, conditions: last ? last.conditions : [], last_run: last, captured_at: iso(now()) });
  }
  if (req.method === 'GET' && sub === 'runs') {
    const limit = Math.min(500, Number(q.get('limit') || 100));
    let items;
    if (q.get('order') === 'desc') items = own.slice(-limit).reverse();
    else items = own.filter((r) => r.seq > Number(q.get('after_seq') || 0)).slice(0, limit);
    return reply(200, { items, metadata: { resource_version: String(changeSeq) } });
  }
  if (req.method === 'GET' && sub === 'kv') {
    const items = [...kv.get(v.name).entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, e]) => ({ key, ...e }));
    return reply(200, { items, metadata: { resource_version: String(changeSeq) } });
  }
  if (req.method === 'GET' && sub === 'conditions') {
    const last = own[own.length - 1];
    return reply(200, { items: last ? last.conditions : [], metadata: { resource_version: String(changeSeq) } });
  }
  if (req.method === 'GET' && sub === 'events') {
    return reply(200, { items: events.get(v.name).slice(0, Number(q.get('limit') || 100)), metadata: { resource_version: String(changeSeq) } });
  }
  if (req.method === 'POST' && sub === 'tick') return reply(200, tick(v, 'forced'));
  if (req.method === 'POST' && (sub === 'enable' || sub === 'disable')) {
    const on = sub === 'enable';
    if (v.enabled !== on) {
      v.enabled = on;
      if (v.state === 'Enabled' || v.state === 'Disabled') v.state = on ? 'Enabled' : 'Disabled';
      touch(v);
      vigyEvent('MODIFIED', v);
    }
    return reply(200, v);
  }
  if (req.method === 'DELETE' && sub === '') {
    vigies.delete(v.name);
    touch(v);
    vigyEvent('DELETED', v);
    res.writeHead(204, { 'Content-Length': 0 });
    return res.end();
  }
  return problem(res, 405, 'unimplemented', `${req.method} is not served on ${tpl}`, path);
}

server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${server.address().port}` }));
  console.log(JSON.stringify({ event: 'ready' }));
});
process.on('SIGTERM', () => {
  clearInterval(timer);
  for (const s of [...runStreams, ...vigyStreams]) s.res.end();
  server.close();
  server.closeAllConnections();
  if (violations.length) {
    console.error(`fixture: ${violations.length} responses broke the OpenAPI document:\n${[...new Set(violations)].slice(0, 50).join('\n')}`);
    process.exit(1);
  }
  process.exit(0);
});
