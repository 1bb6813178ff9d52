// tests/node/harness_selftest.mjs — the harness fails clearly (exit 1, naming the missing
// package and the `npm ci` to run) when node_modules lacks a package, instead of a
// resolution stack trace or a silent pass.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, run } from './lib/harness.mjs';

run(async () => {
  const empty = mkdtempSync(join(tmpdir(), 'vigy-node-'));
  try {
    const harness = new URL('./lib/harness.mjs', import.meta.url).href;
    const code = `import { requireModules } from ${JSON.stringify(harness)};
      requireModules(['eventsource'], ${JSON.stringify(empty)}); console.log('not reached');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    check(r.status === 1, 'exit status 1', `${r.status}`);
    check(r.stdout === '', 'nothing runs past the check', r.stdout);
    check(r.stderr.includes(`FAIL: eventsource not installed in ${join(empty, 'node_modules')}`), 'names the package', r.stderr);
    check(r.stderr.includes('run `npm ci --ignore-scripts`'), 'says how to fix it', r.stderr);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
