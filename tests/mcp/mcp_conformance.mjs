// tests/mcp/mcp_conformance.mjs VIGY — the official MCP conformance suite
// (@modelcontextprotocol/conformance, pinned in tests/node) against a real `vigy serve`'s
// POST /mcp: every server scenario that applies to vigy. The suite's other server
// scenarios need its own fixture tools (test_simple_text, test_image_content, ...),
// resources, prompts, completions, logging, sampling or elicitation, none of which vigy
// offers (its one capability is tools); they are listed in docs/mcp.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, modulePath, run, startServer } from '../node/lib/harness.mjs';

const vigy = process.argv[2];
if (!vigy) {
  console.error('usage: mcp_conformance.mjs VIGY');
  process.exit(2);
}
const scenarios = ['server-initialize', 'tools-list'];
const cli = modulePath('@modelcontextprotocol/conformance', 'dist/index.js');

/** Runs the suite's CLI in `cwd` (it writes its results/ directory there). */
function conformance(args, cwd) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

run(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigy-mcp-conformance-'));
  const srv = await startServer(vigy, ['--db', join(dir, 'vigy.db'), '-o', 'json', 'serve', '--listen', '127.0.0.1:0']);
  try {
    const listed = await conformance(['list', '--server'], dir);
    for (const s of scenarios) check(listed.out.includes(`- ${s}\n`), `the suite has scenario ${s}`, listed.out);
    for (const s of scenarios) {
      const r = await conformance(['server', '--url', `${srv.url}/mcp`, '--scenario', s], dir);
      console.log(`--- ${s} (exit ${r.code})\n${r.out.trim()}`);
      check(r.code === 0, `conformance ${s} passes`, r.out);
      check(!/FAIL(URE|ED)?\b/.test(r.out.replace(/Failed: 0/gi, '')), `conformance ${s}: no failed check`, r.out);
    }
  } finally {
    check((await srv.stop()) === 0, 'serve stops cleanly');
    rmSync(dir, { recursive: true, force: true });
  }
});
