// tests/mcp/scenario.mjs — what an agent does with vigy's MCP server, driven through the
// official MCP TypeScript SDK client over either transport (mcp_stdio.mjs, mcp_http.mjs):
// initialize, list tools, learn the intrinsics, check, eval, register, tick, inspect, read
// runs, disable/enable, delete; and the error paths (unknown tool, invalid arguments,
// unknown vigy, a program with a reader error, a program over its fuel limit).
import { check, checkEqual } from '../node/lib/harness.mjs';

export const allTools = [
  'vigy_register', 'vigy_list', 'vigy_inspect', 'vigy_tick', 'vigy_enable', 'vigy_disable',
  'vigy_delete', 'vigy_eval', 'vigy_check', 'vigy_runs', 'vigy_plugins',
];
export const readOnlyTools = ['vigy_list', 'vigy_inspect', 'vigy_eval', 'vigy_check', 'vigy_runs', 'vigy_plugins'];

export const counterProgram =
  '(vigy-log "info" "counting")\n' +
  '(vigy-set "n" (+ 1 (or (vigy-get "n") 0)))\n' +
  '(display "printed by display")\n' +
  '(print "printed by print")\n' +
  '(vigy-noop)\n';

/** callTool that returns the result (isError or not); a protocol error rejects. */
async function call(client, name, args = {}) {
  return client.callTool({ name, arguments: args });
}

function textOf(result) {
  return (result.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

/** A successful call: structuredContent present and equal to the JSON of its text. */
async function ok(client, name, args, what) {
  const r = await call(client, name, args);
  check(r.isError !== true, `${what}: ${name} succeeds`, textOf(r));
  check(r.structuredContent && typeof r.structuredContent === 'object', `${what}: structuredContent`);
  let parsed = null;
  try {
    parsed = JSON.parse(textOf(r));
  } catch {
    /* checked below */
  }
  checkEqual(parsed, r.structuredContent, `${what}: the text content is the structuredContent`);
  return r.structuredContent || {};
}

/** A tool failure: isError true with a text matching `re`. */
async function fails(client, name, args, re, what) {
  const r = await call(client, name, args);
  check(r.isError === true, `${what}: isError`, JSON.stringify(r));
  check(re.test(textOf(r)), `${what}: message`, `${textOf(r)} !~ ${re}`);
  return textOf(r);
}

/** A JSON-RPC error (rejection) with `code` and a message matching `re`. */
export async function rejects(promise, code, re, what) {
  try {
    const r = await promise;
    check(false, `${what}: rejected`, `resolved with ${JSON.stringify(r)}`);
  } catch (e) {
    check(e.code === code, `${what}: JSON-RPC code ${code}`, `got ${e.code}: ${e.message}`);
    check(re.test(e.message), `${what}: message`, `${e.message} !~ ${re}`);
  }
}

/** The whole agent session on a connected client. `name` keeps transports apart. */
export async function exercise(client, name) {
  // ---- initialize ----
  const info = client.getServerVersion();
  checkEqual(info && info.name, 'vigy', 'serverInfo.name');
  const caps = client.getServerCapabilities();
  check(caps && caps.tools, 'capability tools');

  // ---- tools/list ----
  const { tools } = await client.listTools();
  checkEqual(tools.map((t) => t.name).sort(), [...allTools].sort(), 'tools/list names');
  for (const t of tools) {
    check(t.description && t.description.length > 20, `${t.name}: description`);
    checkEqual(t.inputSchema && t.inputSchema.type, 'object', `${t.name}: inputSchema`);
    checkEqual(t.outputSchema && t.outputSchema.type, 'object', `${t.name}: outputSchema`);
    const a = t.annotations || {};
    check(typeof a.readOnlyHint === 'boolean' && typeof a.destructiveHint === 'boolean' &&
      typeof a.idempotentHint === 'boolean', `${t.name}: annotations`);
    checkEqual(a.readOnlyHint, readOnlyTools.includes(t.name), `${t.name}: readOnlyHint`);
  }
  checkEqual(tools.find((t) => t.name === 'vigy_register').inputSchema.required, ['name'], 'register requires name');
  checkEqual(tools.find((t) => t.name === 'vigy_delete').annotations.destructiveHint, true, 'delete is destructive');

  // ---- what a program may call ----
  const plugins = await ok(client, 'vigy_plugins', {}, 'plugins');
  const kinds = plugins.items.flatMap((p) => p.kinds.map((k) => k.kind));
  check(kinds.includes('lisp'), 'plugins: the lisp kind', JSON.stringify(kinds));
  const intrinsics = plugins.items.flatMap((p) => p.extensions.flatMap((e) => e.intrinsics));
  const set = intrinsics.find((i) => i.name === 'vigy-set');
  check(set && set.arity === '2', 'plugins: vigy-set with its arity', JSON.stringify(set));

  // ---- check and eval before registering ----
  checkEqual(await ok(client, 'vigy_check', { program: counterProgram }, 'check'), { valid: true }, 'check: valid');
  const bad = await ok(client, 'vigy_check', { program: '(vigy-noop)\n  (vigy-log "info"' }, 'check bad');
  checkEqual([bad.valid, bad.line], [false, 2], 'check: reader error with its line');
  check(typeof bad.column === 'number' && /2:\d+/.test(bad.error), 'check: line:col in the error', JSON.stringify(bad));
  const ev = await ok(client, 'vigy_eval', { program: counterProgram, ticks: 3, every_ms: 500 }, 'eval');
  checkEqual(ev.ticks.map((t) => t.result), ['ok', 'ok', 'ok'], 'eval: three ok ticks');
  checkEqual(ev.kv, { n: 3 }, 'eval: the kv carries from tick to tick');
  check(ev.ticks[0].output.includes('printed by display') && ev.ticks[0].output.includes('printed by print'),
    'eval: what the program printed is in its output', ev.ticks[0].output);
  checkEqual(ev.ticks[1].tick.start_ms - ev.ticks[0].tick.start_ms, 500, 'eval: simulated time');

  // ---- register, tick, inspect, runs ----
  // registered disabled: a serving scheduler (HTTP) would tick an enabled one at once
  const spec = { name, program: counterProgram, tick_interval_ms: 60000, enabled: false, labels: { app: 'mcp-test' } };
  const reg = await ok(client, 'vigy_register', spec, 'register');
  checkEqual([reg.outcome, reg.vigy.name, reg.vigy.enabled, reg.vigy.tick_interval_ms], ['created', name, false, 60000],
    'register: created');
  const again = await ok(client, 'vigy_register', spec, 'register again');
  checkEqual(again.outcome, 'unchanged', 'register: the same again is unchanged');
  const list = await ok(client, 'vigy_list', { label_selector: 'app=mcp-test' }, 'list');
  checkEqual(list.items.map((v) => v.name), [name], 'list: by label selector');
  checkEqual((await ok(client, 'vigy_list', { label_selector: 'app=other' }, 'list none')).items, [], 'list: none');

  const run1 = await ok(client, 'vigy_tick', { id: name }, 'tick');
  checkEqual([run1.result, run1.vigy_name, run1.trigger], ['ok', name, 'forced'], 'tick: an ok forced run');
  check(run1.output.includes('printed by print'), 'tick: output captured in the run', run1.output);
  const run2 = await ok(client, 'vigy_tick', { id: reg.vigy.id }, 'tick by id');
  checkEqual(run2.kv_writes, { n: 2 }, 'tick by id: the kv counts on');

  const insp = await ok(client, 'vigy_inspect', { id: name }, 'inspect');
  checkEqual(insp.vigy.name, name, 'inspect: the vigy');
  checkEqual(insp.recent_runs.map((r) => r.id), [run2.id, run1.id], 'inspect: recent runs, newest first');

  const runs = await ok(client, 'vigy_runs', { id: name }, 'runs');
  checkEqual(runs.items.map((r) => r.id), [run1.id, run2.id], 'runs: oldest first');
  checkEqual(runs.next_after_seq, run2.seq, 'runs: next_after_seq');
  const after = await ok(client, 'vigy_runs', { id: name, after_seq: run1.seq }, 'runs after');
  checkEqual(after.items.map((r) => r.id), [run2.id], 'runs: after a seq');
  const page = await ok(client, 'vigy_runs', { id: name, limit: 1 }, 'runs page');
  checkEqual([page.items.length, page.more], [1, true], 'runs: a full page says more');

  checkEqual((await ok(client, 'vigy_enable', { id: name }, 'enable')).enabled, true, 'enable');
  checkEqual((await ok(client, 'vigy_disable', { id: name }, 'disable')).enabled, false, 'disable');

  // ---- error paths ----
  await rejects(call(client, 'vigy_frobnicate', {}), -32602, /unknown tool "vigy_frobnicate" \(known: vigy_register/,
    'unknown tool');
  await fails(client, 'vigy_register', { name: 'Bad Name', program: 7, tick_interval_ms: 5 },
    /invalid arguments of vigy_register: .*\/name: .*\/program: must be a string.*\/tick_interval_ms: must be an integer >= 100/,
    'invalid arguments (register)');
  await fails(client, 'vigy_runs', { id: name, limit: 0, colour: 'red' },
    /\/colour: unknown argument.*\/limit: must be an integer from 1 to 500/, 'invalid arguments (runs)');
  await fails(client, 'vigy_tick', {}, /\/id: required/, 'missing id');
  await fails(client, 'vigy_inspect', { id: 'nope' }, new RegExp(`vigy "nope" not found; known: .*${name}`), 'unknown vigy');
  await fails(client, 'vigy_tick', { id: 'nope' }, /vigy "nope" not found; known: /, 'unknown vigy (tick)');
  await fails(client, 'vigy_register', { name: `${name}-broken`, program: '(vigy-noop)\n(vigy-log "info"' },
    /does not build: \S*:2:\d+: reader error[\s\S]*nothing was registered/, 'register: a program with a reader error');
  await fails(client, 'vigy_inspect', { id: `${name}-broken` }, /not found/, 'register: the broken program was not stored');
  await fails(client, 'vigy_eval', { program: '(vigy-noop' }, /the program does not build: .*1:\d+/, 'eval: a reader error');
  // the per-tick limits hold for programs evaluated through MCP
  const spin = await ok(client, 'vigy_eval',
    { program: '(define (spin n) (spin (+ n 1)))\n(spin 0)', limits: { fuel: 200000 } }, 'eval spin');
  checkEqual(spin.ticks[0].result, 'failed', 'eval: over its fuel limit the tick fails');
  check(/fuel exhausted/.test(spin.ticks[0].error), 'eval: fuel exhausted', spin.ticks[0].error);

  // ---- delete ----
  const del = await ok(client, 'vigy_delete', { id: name }, 'delete');
  checkEqual([del.deleted, del.name, del.kept_history], [true, name, true], 'delete');
  await fails(client, 'vigy_inspect', { id: name }, /not found/, 'deleted: gone');
  await fails(client, 'vigy_delete', { id: name }, /not found/, 'delete twice: not found');
}
