// tests/dashboard/lib/browser.mjs — what the dashboard's browser tests share: the
// command line, the server under test (the fixture of the documented /v1 shapes, or a
// real `vigy serve`), Debian's Chromium driven by puppeteer-core from tests/node, and
// pages that record every console error, page error, failed request and error response
// so a test can assert there were none.
//
// Options (every test script):
//   --node-dir DIR    tests/node with its node_modules (puppeteer-core, ajv) and lib/
//   --out DIR         where screenshots go (created)
//   --target fixture  the fixture server (default), with:
//       --assets DIR      the built dashboard (api/dashboard/dist)
//       --openapi FILE    the OpenAPI document every fixture response is checked against
//   --target vigy     a real server, with:
//       --vigy BIN        the vigy binary: `vigy --db DB -o json serve --listen 127.0.0.1:0`
//   --chromium BIN    default /usr/bin/chromium
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..', '..');

export function parseArgs(argv = process.argv.slice(2)) {
  const o = {
    nodeDir: join(repoRoot, 'tests', 'node'),
    out: join(process.cwd(), 'dashboard-screenshots'),
    target: 'fixture',
    assets: join(repoRoot, 'api', 'dashboard', 'dist'),
    openapi: join(repoRoot, 'api', 'openapi', 'vigy.openapi.json'),
    vigy: null,
    chromium: '/usr/bin/chromium',
  };
  const names = { '--node-dir': 'nodeDir', '--out': 'out', '--target': 'target', '--assets': 'assets', '--openapi': 'openapi', '--vigy': 'vigy', '--chromium': 'chromium' };
  for (let i = 0; i < argv.length; i++) {
    const k = names[argv[i]];
    if (!k || argv[i + 1] === undefined) {
      console.error(`FAIL: unknown or incomplete option ${argv[i]} (see tests/dashboard/lib/browser.mjs)`);
      process.exit(2);
    }
    o[k] = resolve(argv[++i]);
    if (k === 'target') o.target = argv[i];
  }
  if (!['fixture', 'vigy'].includes(o.target)) {
    console.error(`FAIL: --target ${o.target}: expected fixture or vigy`);
    process.exit(2);
  }
  if (o.target === 'vigy' && !o.vigy) {
    console.error('FAIL: --target vigy needs --vigy BIN');
    process.exit(2);
  }
  return o;
}

/** The tests/node harness (check, run, waitFor, startServer, importModule). */
export async function harness(opts) {
  return import(pathToFileURL(join(opts.nodeDir, 'lib', 'harness.mjs')).href);
}

// Programs of the vigies every test starts with (the fixture has the same four).
export const PROGRAMS = {
  hello: `;; hello — counts its ticks and declares itself ready
(vigy-log "info" (string-append "tick " (string (vigy-tick-count))))
(vigy-metric "queue_depth" (modulo (vigy-tick-count) 7))
(vigy-condition "Ready" #t "Ticking" "all good")
(vigy-condition "Synced" "unknown" "NoPeer" "no peer to compare with")
(vigy-condition "Stalled" #f "Moving" "the queue drains")
(vigy-noop)
`,
  failing: `;; failing — calls a function that does not exist
(vigy-log "info" "about to fail")
(define x 1)
  (frobnicate x)
(vigy-noop)
`,
};
/** The line of PROGRAMS.failing that fails. */
export const FAILING_LINE = 4;

/**
 * Starts the server under test with the four vigies (hello: ok, with a condition and a
 * metric; failing: fails on FAILING_LINE; paused: disabled; nightly-report: a one-shot).
 * Resolves {url, stop(), token} — stop() rejects if the fixture saw a contract violation.
 */
export async function startTarget(opts, { token = null } = {}) {
  const h = await harness(opts);
  const scratch = mkdtempSync(join(tmpdir(), 'vigy-dash-'));
  if (opts.target === 'fixture') {
    const args = [join(repoRoot, 'tests', 'dashboard', 'fixture_server.mjs'), '--assets', opts.assets,
      '--openapi', opts.openapi, '--node-dir', opts.nodeDir, '--tick-ms', '600'];
    if (token) args.push('--token', token);
    const srv = await h.startServer(process.execPath, args);
    return { url: srv.url, token, stop: () => stopChecked(srv, scratch) };
  }
  // A real `vigy serve` on a fresh database; the vigies are created through the API.
  const db = join(scratch, 'vigy.db');
  const args = ['--db', db, '-o', 'json', 'serve', '--listen', '127.0.0.1:0'];
  if (token) {
    const tf = join(scratch, 'token');
    writeFileSync(tf, `${token}\n`, { mode: 0o600 });
    args.push('--token-file', tf);
  }
  const srv = await h.startServer(opts.vigy, args, { timeoutMs: 20000 });
  const headers = { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const apply = async (body) => {
    const r = await fetch(`${srv.url}/v1/vigies`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`POST /v1/vigies ${body.name}: ${r.status} ${await r.text()}`);
  };
  await apply({ name: 'hello', program: PROGRAMS.hello, tick_interval_ms: 500, labels: { app: 'demo', tier: 'web' } });
  await apply({ name: 'failing', program: PROGRAMS.failing, tick_interval_ms: 500, labels: { app: 'demo', tier: 'batch' } });
  await apply({ name: 'paused', kind: 'noop', config: {}, tick_interval_ms: 5000, enabled: false, labels: { app: 'other' } });
  await apply({ name: 'nightly-report', program: '(vigy-noop)\n', schedule: { kind: 'once' }, labels: { app: 'other' } });
  return { url: srv.url, token, stop: () => stopChecked(srv, scratch) };
}

async function stopChecked(srv, scratch) {
  const code = await srv.stop();
  rmSync(scratch, { recursive: true, force: true });
  if (code !== 0) throw new Error(`the server under test exited with ${code} (a fixture exits 1 when a response broke the OpenAPI document)`);
}

/** Launches Debian's Chromium headless with a fresh profile. Resolves {browser, close()}. */
export async function launch(opts) {
  const h = await harness(opts);
  const { default: puppeteer } = await h.importModule('puppeteer-core');
  const profile = mkdtempSync(join(tmpdir(), 'vigy-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: opts.chromium,
    headless: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A new page that records problems. `allow` is a list of {status, url (RegExp)} error
 * responses the test expects (e.g. the 401 before a token is entered).
 *   -> {page, problems(): [strings], screenshot(name)}
 */
export async function openPage(browser, opts, { width = 1280, height = 900, dark = false, allow = [] } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: dark ? 'dark' : 'light' }]);
  const problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every error response as a console error; expected ones are allowed.
    const text = m.text();
    const at = m.location()?.url || '';
    if (allow.some((a) => text.includes(`status of ${a.status} `) && a.url.test(at))) return;
    problems.push(`console error: ${text}${at ? ` (${at})` : ''}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const err = r.failure()?.errorText || '';
    // A watch stream the page closes itself (a new selector, leaving the page) is aborted.
    if (err === 'net::ERR_ABORTED' && /\/v1\/(watch\/runs|vigies\?.*watch=true)/.test(r.url())) return;
    // Chromium reports a fetch answered 204 No Content as aborted once the response is
    // in (there is no body to read): the response arrived, nothing failed.
    if (err === 'net::ERR_ABORTED' && r.response()?.status() === 204) return;
    problems.push(`request failed: ${r.method()} ${r.url()}: ${err}`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    if (allow.some((a) => a.status === r.status() && a.url.test(r.url()))) return;
    problems.push(`error response: ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  // Console messages from the browser itself (CSP violations, network errors) arrive
  // through the Log domain, not as console API calls.
  const cdp = await page.createCDPSession();
  await cdp.send('Log.enable');
  cdp.on('Log.entryAdded', ({ entry }) => {
    if (entry.level !== 'error') return;
    if (entry.source === 'network' && allow.some((a) => entry.url && a.url.test(entry.url))) return;
    problems.push(`browser log (${entry.source}): ${entry.text}${entry.url ? ` ${entry.url}` : ''}`);
  });
  mkdirSync(opts.out, { recursive: true });
  return {
    page,
    problems: () => [...problems],
    async screenshot(name) {
      const file = join(opts.out, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}

/** Resolves once `selector` matches an element for which fn(el) is true in the page. */
export async function waitForDom(page, fn, arg, what, timeout = 10000) {
  try {
    await page.waitForFunction(fn, { timeout, polling: 50 }, arg);
  } catch (e) {
    throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
  }
}
