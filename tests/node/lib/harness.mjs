// tests/node/lib/harness.mjs — what every Node test of vigy shares: finding the pinned
// npm clients (failing clearly when `npm ci` has not run), starting a server binary and
// reading the URL it prints, bounded waits, and a pass/fail tally whose last line is
// "N passed, N failed" (exit status 1 on any failure).
//
// Test scripts import only this file statically; npm packages are loaded with
// importModule() after the check, so a missing node_modules is a clear failure
// instead of a module-resolution stack trace.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** tests/node, where package.json, package-lock.json and node_modules live. */
export const nodeDir = dirname(dirname(fileURLToPath(import.meta.url)));
/** The repository root. */
export const repoRoot = dirname(dirname(nodeDir));

/** Exits 1 with a clear message unless every package is installed in tests/node/node_modules. */
export function requireModules(names, dir = nodeDir) {
  const missing = names.filter((n) => !existsSync(join(dir, 'node_modules', n, 'package.json')));
  if (missing.length > 0) {
    console.error(
      `FAIL: ${missing.join(', ')} not installed in ${join(dir, 'node_modules')}: ` +
        `run \`npm ci --ignore-scripts\` in ${dir} (scripts/test.sh does this before the node tests)`,
    );
    process.exit(1);
  }
}

/** Imports an installed package (after requireModules) from tests/node/node_modules. */
export async function importModule(name, subpath = '') {
  requireModules([name]);
  const require = createRequire(join(nodeDir, 'package.json'));
  return import(pathToFileURL(require.resolve(name + subpath)).href);
}

/** Path of an installed package's file (e.g. a CLI entry point). */
export function modulePath(name, file) {
  requireModules([name]);
  return join(nodeDir, 'node_modules', name, file);
}

/**
 * Starts a server that prints JSON lines with {"event":"listening","url":...} and then
 * {"event":"ready"} (api_test_server, vigy serve -o json). Resolves {url, urls, proc, stop}.
 */
export function startServer(binary, args = [], { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const urls = [];
    let stderr = '';
    let buf = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${binary} did not get ready within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${binary} exited with ${code}: ${stderr}`));
    });
    proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let ev;
        try {
          ev = JSON.parse(line);
        } catch {
          continue;
        }
        if (ev.event === 'listening') urls.push(ev.url);
        if (ev.event === 'ready') {
          clearTimeout(timer);
          proc.removeAllListeners('exit');
          const stop = () =>
            new Promise((done) => {
              if (proc.exitCode !== null) return done(proc.exitCode);
              proc.once('exit', (c) => done(c));
              proc.kill('SIGTERM');
            });
          resolve({ url: urls[0], urls, proc, stop });
        }
      }
    });
  });
}

/** Resolves when pred() is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function waitFor(pred, what, { timeoutMs = 10000, everyMs = 10 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

let passed = 0;
let failed = 0;

/** Records one assertion. */
export function check(ok, what, detail = '') {
  if (ok) passed++;
  else {
    failed++;
    console.error(`FAIL: ${what}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

/** check(a === b) with both shown on failure (deep, via JSON). */
export function checkEqual(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  return check(g === w, what, `got ${g}, want ${w}`);
}

/** Prints the tally and exits (1 on any failure). */
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

/** Runs an async main: an exception is a failure with its message. */
export function run(main) {
  main().then(finish, (e) => {
    failed++;
    console.error(`FAIL: ${e && e.stack ? e.stack : e}`);
    finish();
  });
}
