// tests/mcp/mcp_stdio.mjs VIGY — the official MCP SDK client's StdioClientTransport
// spawning `vigy mcp` on a temporary database: the agent session of scenario.mjs, the
// protocol version negotiation, and `vigy mcp --read-only` refusing every mutating tool
// (and not listing it) while the read-only tools work on the same database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, checkEqual, importModule, run } from '../node/lib/harness.mjs';
import { allTools, counterProgram, exercise, readOnlyTools, rejects } from './scenario.mjs';

const vigy = process.argv[2];
if (!vigy) {
  console.error('usage: mcp_stdio.mjs VIGY');
  process.exit(2);
}

const { Client } = await importModule('@modelcontextprotocol/sdk', '/client/index.js');
const { StdioClientTransport } = await importModule('@modelcontextprotocol/sdk', '/client/stdio.js');

async function connect(db, extra = []) {
  const transport = new StdioClientTransport({ command: vigy, args: ['--db', db, 'mcp', ...extra], stderr: 'pipe' });
  let stderr = '';
  transport.stderr.on('data', (d) => (stderr += d));
  const client = new Client({ name: 'vigy-test', version: '1.0.0' });
  const errors = [];
  client.onerror = (e) => errors.push(String(e));
  await client.connect(transport);
  return { client, transport, errors, stderr: () => stderr };
}

run(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigy-mcp-stdio-'));
  const db = join(dir, 'vigy.db');
  try {
    const s = await connect(db);
    await exercise(s.client, 'stdio-agent');
    // a vigy for the read-only server to find
    const r = await s.client.callTool({ name: 'vigy_register', arguments: { name: 'kept', program: counterProgram } });
    check(!r.isError, 'stdio: register kept', JSON.stringify(r));
    checkEqual(s.errors, [], 'stdio: no transport errors (every stdout line was a JSON-RPC message)');
    await s.client.close();
    check(/vigy mcp: serving/.test(s.stderr()), 'stdio: the log line went to stderr', s.stderr());

    // ---- --read-only ----
    const ro = await connect(db, ['--read-only']);
    const { tools } = await ro.client.listTools();
    checkEqual(tools.map((t) => t.name).sort(), [...readOnlyTools].sort(), 'read-only: only the read-only tools are listed');
    check(tools.every((t) => t.annotations.readOnlyHint === true), 'read-only: every listed tool is readOnlyHint');
    const mutating = allTools.filter((t) => !readOnlyTools.includes(t));
    checkEqual(mutating.length, 5, 'read-only: five mutating tools');
    const args = {
      vigy_register: { name: 'kept', program: '(vigy-noop)' },
      vigy_tick: { id: 'kept' },
      vigy_enable: { id: 'kept' },
      vigy_disable: { id: 'kept' },
      vigy_delete: { id: 'kept' },
    };
    for (const name of mutating)
      await rejects(ro.client.callTool({ name, arguments: args[name] }), -32602, /read-only/, `read-only: ${name} refused`);
    const list = await ro.client.callTool({ name: 'vigy_list', arguments: {} });
    checkEqual(list.structuredContent.items.map((v) => [v.name, v.enabled]), [['kept', true]],
      'read-only: nothing changed (kept is still there, enabled)');
    const runs = await ro.client.callTool({ name: 'vigy_runs', arguments: { id: 'kept' } });
    checkEqual(runs.structuredContent.items, [], 'read-only: vigy_tick ran nothing');
    const ev = await ro.client.callTool({ name: 'vigy_eval', arguments: { program: counterProgram } });
    checkEqual(ev.structuredContent.kv, { n: 1 }, 'read-only: vigy_eval works');
    checkEqual(ro.errors, [], 'read-only: no transport errors');
    await ro.client.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
