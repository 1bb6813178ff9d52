// tests/mcp/mcp_stdout_purity.mjs VIGY — raw newline-delimited JSON-RPC against
// `vigy mcp`: a program that prints with display/print (newlines, braces, text that
// looks like JSON-RPC) is ticked and evaluated, and stdout carries exactly one JSON-RPC
// response per request and nothing else; what it printed is in the run's output. Also
// the lifecycle on the wire: version negotiation, ping, -32700/-32600/-32601/-32602,
// notifications answered by nothing, a batch, end of stdin exits 0.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, checkEqual, run } from '../node/lib/harness.mjs';

const vigy = process.argv[2];
if (!vigy) {
  console.error('usage: mcp_stdout_purity.mjs VIGY');
  process.exit(2);
}

const noisy =
  '(display "{\\"jsonrpc\\":\\"2.0\\",\\"id\\":99,\\"result\\":{}}")\n' +
  '(newline)\n' +
  '(print "line one\\nline two")\n' +
  '(display (list 1 2 3))\n' +
  '(vigy-noop)\n';

/** Runs `vigy mcp` with `lines` on stdin (then EOF); resolves {code, stdout, stderr}. */
function session(db, lines) {
  return new Promise((resolve, reject) => {
    const p = spawn(vigy, ['--db', db, 'mcp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)) + '\n').join(''));
  });
}

const req = (id, method, params) => ({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
const callReq = (id, name, args) => req(id, 'tools/call', { name, arguments: args });

run(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigy-mcp-purity-'));
  const db = join(dir, 'vigy.db');
  try {
    const out = await session(db, [
      req(1, 'initialize', { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } }),
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      callReq(2, 'vigy_register', { name: 'noisy', program: noisy }),
      callReq(3, 'vigy_tick', { id: 'noisy' }),
      callReq(4, 'vigy_eval', { program: noisy, ticks: 2 }),
      req(5, 'ping'),
      '{"jsonrpc":"2.0","id":6,"method":',
      req(7, 'resources/list'),
      req(8, 'tools/call', { arguments: {} }),
      { jsonrpc: '1.0', id: 9, method: 'ping' },
      [req(10, 'ping'), { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } }, req(11, 'tools/list')],
      req(12, 'initialize', { protocolVersion: '1999-01-01', capabilities: {}, clientInfo: { name: 'old', version: '1' } }),
      { jsonrpc: '2.0', id: 13, result: {} },
      req(14, 'initialize', {}),
    ]);
    checkEqual(out.code, 0, 'end of stdin: exit 0');
    check(out.stdout.endsWith('\n'), 'stdout ends with a newline');
    const lines = out.stdout.split('\n').filter((l) => l !== '');
    const msgs = [];
    for (const l of lines) {
      try {
        msgs.push(JSON.parse(l));
      } catch {
        check(false, 'every stdout line is JSON', l);
      }
    }
    // one line per request that needs an answer: 1-5, the parse error, 7, 8, 9, the batch, 12, 14
    checkEqual(lines.length, 12, 'one stdout line per answer, nothing else');
    const flat = msgs.flatMap((m) => (Array.isArray(m) ? m : [m]));
    check(flat.every((m) => m.jsonrpc === '2.0'), 'every answer is JSON-RPC 2.0');
    const byId = new Map(flat.map((m) => [m.id, m]));
    check(!byId.has(99), 'the JSON-RPC text the program printed never reached stdout');

    checkEqual(byId.get(1).result.protocolVersion, '2025-03-26', 'initialize: an older supported version is answered as asked');
    checkEqual(byId.get(1).result.capabilities, { tools: { listChanged: false } }, 'initialize: capability tools');
    checkEqual(byId.get(12).result.protocolVersion, '2025-11-25', 'initialize: an unknown version gets the newest');
    checkEqual(byId.get(14).error.code, -32602, 'initialize without protocolVersion: -32602');

    checkEqual(byId.get(2).result.isError, false, 'register the noisy program');
    const tick = byId.get(3).result.structuredContent;
    checkEqual(tick.result, 'ok', 'the noisy tick ran ok');
    check(/jsonrpc.*id.*99/.test(tick.output) && /line one[\s\S]*line two/.test(tick.output) && tick.output.includes('(1 2 3)') &&
      tick.output.includes('\n'), // (newline) wrote a real newline into the output
      "the noisy tick's output holds what it printed", JSON.stringify(tick.output));
    const ev = byId.get(4).result.structuredContent;
    checkEqual(ev.ticks.length, 2, 'eval of the noisy program: two ticks');
    check(ev.ticks.every((t) => t.output.includes('line one')), 'eval: output captured per tick');
    checkEqual(byId.get(5).result, {}, 'ping: {}');
    const parseErr = flat.find((m) => m.id === null && m.error && m.error.code === -32700);
    check(parseErr && /parse error/.test(parseErr.error.message), 'a truncated line: -32700 with id null', JSON.stringify(flat));
    checkEqual(byId.get(7).error.code, -32601, 'unknown method: -32601');
    check(/resources\/list/.test(byId.get(7).error.message), 'unknown method: named');
    checkEqual(byId.get(8).error.code, -32602, 'tools/call without a name: -32602');
    checkEqual(byId.get(9).error.code, -32600, 'jsonrpc 1.0: -32600');
    const batch = msgs.find((m) => Array.isArray(m));
    checkEqual(batch && batch.map((m) => m.id), [10, 11], 'a batch: an array of the answers, notifications unanswered');
    check(!byId.has(13), 'a response from the client is not answered');
    check(/vigy mcp: serving/.test(out.stderr), 'logs on stderr');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
