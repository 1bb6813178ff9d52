// tests/node/serve_watch.mjs — a real WHATWG EventSource client (npm `eventsource`) watching
// the runs of a real `vigy serve` while it ticks, through a TCP proxy that kills every
// connection once a second. The client reconnects on its own with Last-Event-ID; at the end
// the seqs it received are compared with the runs the store holds: every committed run
// exactly once, in order, no gap. Then the client closes its stream itself, runs go on while
// nobody listens, and a new EventSource resumed with ?after_seq= backfills them; `?vigy=`
// narrows the stream to one vigy; a malformed cursor closes the stream with 400.
//   node serve_watch.mjs path/to/vigy
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, checkEqual, importModule, run, startServer, waitFor } from './lib/harness.mjs';

const vigy = process.argv[2];
if (!vigy) {
  console.error('usage: node serve_watch.mjs path/to/vigy');
  process.exit(2);
}

/** A TCP proxy to `target` (host:port) whose killAll() drops every open connection. */
function startProxy(target) {
  const [host, port] = [target.hostname, Number(target.port)];
  const open = new Set();
  const server = createServer((client) => {
    const upstream = createConnection({ host, port });
    const pair = { client, upstream };
    open.add(pair);
    const drop = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        killAll() {
          const n = open.size;
          for (const p of [...open]) {
            p.client.destroy();
            p.upstream.destroy();
          }
          return n;
        },
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

const json = (r) => {
  if (!r.ok) throw new Error(`${r.url}: ${r.status}`);
  return r.json();
};

run(async () => {
  const { EventSource } = await importModule('eventsource');
  const scratch = mkdtempSync(join(tmpdir(), 'vigy-watch-'));
  const server = await startServer(vigy, ['--db', join(scratch, 'vigy.db'), '-o', 'json', 'serve', '--listen', '127.0.0.1:0'],
    { timeoutMs: 20000 });
  const proxy = await startProxy(new URL(server.url));
  try {
    const apply = async (name) => {
      const r = await fetch(`${server.url}/v1/vigies`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, program: '(vigy-set "n" (+ 1 (or (vigy-get "n") 0)))\n(vigy-noop)\n', tick_interval_ms: 100 }),
      });
      checkEqual(r.status, 201, `create ${name}`);
    };
    await apply('alpha');
    await apply('beta');

    // 1. the proxy kills the connection every second; the client reconnects by itself
    const got = [];
    const names = new Map();
    const lastIds = [];
    let opens = 0;
    const es = new EventSource(`${proxy.url}/v1/watch/runs?after_seq=0`, {
      fetch: (input, init) => {
        lastIds.push(new Headers(init?.headers).get('last-event-id'));
        return fetch(input, init);
      },
    });
    es.addEventListener('open', () => opens++);
    es.addEventListener('run', (e) => {
      const run = JSON.parse(e.data);
      checkEqual(run.seq, Number(e.lastEventId), `event id ${e.lastEventId} is the run's seq`);
      got.push(run.seq);
      names.set(run.seq, run.vigy_name);
    });
    // kill only an open stream that has delivered runs since the last kill, so every kill
    // drops a live stream mid-flow and must be followed by a reconnect
    let kills = 0;
    let atLastKill = 0;
    const killer = setInterval(() => {
      if (es.readyState !== EventSource.OPEN || got.length < atLastKill + 5) return;
      atLastKill = got.length;
      kills += proxy.killAll() > 0 ? 1 : 0;
    }, 200);
    await waitFor(() => kills >= 5 && got.length >= 60 && opens > kills, '5 kills, 60 runs and a reconnect after the last kill', { timeoutMs: 60000 });
    clearInterval(killer);
    es.close();
    check(opens >= kills + 1, 'reconnected after every kill', `${opens} opens, ${kills} kills`);
    const resent = lastIds.slice(1).filter((h) => h !== null);
    check(lastIds[0] === null && resent.length === lastIds.length - 1 && resent.length >= kills,
      'every reconnect sent Last-Event-ID', JSON.stringify(lastIds));
    check(resent.every((h, i) => i === 0 || Number(h) >= Number(resent[i - 1])), 'Last-Event-ID moves forward', JSON.stringify(resent));

    // what the store holds up to the last seq received
    const last = got[got.length - 1];
    const stored = [];
    for (const name of ['alpha', 'beta']) {
      let after = 0;
      for (;;) {
        const page = await json(await fetch(`${server.url}/v1/vigies/${name}/runs?after_seq=${after}&limit=500`));
        for (const r of page.items) if (r.seq <= last) stored.push(r.seq);
        if (!page.metadata.continue) break;
        after = Number(page.metadata.continue);
      }
    }
    stored.sort((a, b) => a - b);
    checkEqual(got, stored, 'every stored run exactly once, in order, across the kills');
    check(new Set(names.values()).size === 2, 'runs of both vigies arrived', JSON.stringify([...new Set(names.values())]));

    // 2. the client drops its stream itself; runs go on; a resume backfills them
    const resumeFrom = await json(await fetch(`${server.url}/v1/vigies/alpha/runs?order=desc&limit=1`)).then((p) => p.items[0].seq);
    await waitFor(async () => {
      const p = await json(await fetch(`${server.url}/v1/vigies/alpha/runs?order=desc&limit=1`));
      return p.items[0].seq >= resumeFrom + 10;
    }, 'ten more seqs while nobody listens', { timeoutMs: 20000 });
    const resumed = [];
    const b = new EventSource(`${proxy.url}/v1/watch/runs?after_seq=${last}`);
    b.addEventListener('run', (e) => resumed.push(Number(e.lastEventId)));
    await waitFor(() => resumed.length >= 30, '30 resumed runs', { timeoutMs: 30000 });
    b.close();
    check(resumed[0] === last + 1 || resumed[0] > last, 'the resume starts after the last seq seen', `${resumed[0]} after ${last}`);
    check(resumed.every((s, i) => i === 0 || s > resumed[i - 1]), 'resumed seqs strictly increase', JSON.stringify(resumed));
    // no gap between the two streams: the first resumed seq is the next stored seq after `last`
    const next = [];
    for (const name of ['alpha', 'beta']) {
      const p = await json(await fetch(`${server.url}/v1/vigies/${name}/runs?after_seq=${last}&limit=1`));
      if (p.items.length) next.push(p.items[0].seq);
    }
    checkEqual(resumed[0], Math.min(...next), 'no gap between the killed stream and the resumed one');

    // 3. ?vigy= narrows the stream to one vigy
    const only = [];
    const c = new EventSource(`${server.url}/v1/watch/runs?vigy=beta&after_seq=0`);
    c.addEventListener('run', (e) => only.push(JSON.parse(e.data).vigy_name));
    await waitFor(() => only.length >= 20, '20 runs of beta', { timeoutMs: 20000 });
    c.close();
    checkEqual([...new Set(only)], ['beta'], '?vigy=beta streams only beta');

    // 4. a malformed cursor is a 400 the client does not retry
    const status = await new Promise((resolve) => {
      const d = new EventSource(`${server.url}/v1/watch/runs?after_seq=abc`);
      d.addEventListener('error', (e) => {
        resolve({ code: e.code, state: d.readyState });
        d.close();
      });
    });
    checkEqual(status, { code: 400, state: EventSource.CLOSED }, 'a malformed after_seq closes the EventSource with 400');
  } finally {
    proxy.killAll();
    await proxy.close();
    const code = await server.stop();
    check(code === 0, 'serve exits 0 on SIGTERM', `exit ${code}`);
    rmSync(scratch, { recursive: true, force: true });
  }
});
