// bench/api/sse_watchers.mjs — N concurrent EventSource watchers (npm `eventsource`, from
// tests/node/node_modules) on one SSE URL for S seconds; counts the events per watcher
// and checks each received consecutive ids (no gap, no duplicate). With --pid PID it
// also samples the server's CPU time and RSS from /proc.
//   node bench/api/sse_watchers.mjs URL [--watchers N] [--seconds S] [--pid PID] [--event NAME]
// Prints one line per summary; exit 1 when any watcher saw a gap or a duplicate.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
if (!url) {
  console.error('usage: node sse_watchers.mjs URL [--watchers N] [--seconds S] [--pid PID] [--event NAME]');
  process.exit(2);
}
const watchers = Number(opt('watchers', 100));
const seconds = Number(opt('seconds', 10));
const pid = opt('pid', '');
const eventName = opt('event', 'tick');

const require = createRequire(new URL('../../tests/node/package.json', import.meta.url));
let EventSource;
try {
  ({ EventSource } = await import(pathToFileURL(require.resolve('eventsource')).href));
} catch {
  console.error('eventsource is not installed: run `npm ci --ignore-scripts` in tests/node');
  process.exit(1);
}

function procSample() {
  if (!pid) return null;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);  // utime + stime
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  return { cpu_s: ticks / 100, rss_kib: rss };
}

const state = Array.from({ length: watchers }, () => ({ count: 0, first: null, last: null, gaps: 0, dups: 0, errors: 0 }));
const sources = state.map((s) => {
  const es = new EventSource(url);
  es.addEventListener(eventName, (e) => {
    const id = Number(e.lastEventId);
    if (s.last !== null) {
      if (id <= s.last) s.dups++;
      else if (id !== s.last + 1) s.gaps++;
    } else s.first = id;
    s.last = id;
    s.count++;
  });
  es.addEventListener('error', () => s.errors++);
  return es;
});

await new Promise((r) => setTimeout(r, 1000));  // let every watcher connect before measuring
const before = procSample();
const counts0 = state.map((s) => s.count);
const t0 = Date.now();
let rssMax = before ? before.rss_kib : 0;
const timer = setInterval(() => {
  const p = procSample();
  if (p) rssMax = Math.max(rssMax, p.rss_kib);
}, 250);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(timer);
const after = procSample();
const elapsed = (Date.now() - t0) / 1000;
for (const es of sources) es.close();

const got = state.map((s, i) => s.count - counts0[i]);
const total = got.reduce((a, b) => a + b, 0);
const min = Math.min(...got);
const max = Math.max(...got);
const gaps = state.reduce((a, s) => a + s.gaps, 0);
const dups = state.reduce((a, s) => a + s.dups, 0);
const errors = state.reduce((a, s) => a + s.errors, 0);
console.log(`watchers: ${watchers}, ${elapsed.toFixed(1)} s measured`);
console.log(`events per watcher: min ${min}, max ${max}, mean ${(total / watchers).toFixed(1)} (${(total / elapsed).toFixed(0)} events/s delivered in total)`);
console.log(`gaps: ${gaps}, duplicates: ${dups}, reconnects/errors: ${errors}`);
if (before && after)
  console.log(`server pid ${pid}: ${(((after.cpu_s - before.cpu_s) / elapsed) * 100).toFixed(1)}% CPU, RSS ${after.rss_kib} KiB (max ${rssMax} KiB)`);
process.exit(gaps === 0 && dups === 0 ? 0 : 1);
