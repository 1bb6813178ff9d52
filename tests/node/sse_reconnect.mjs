// tests/node/sse_reconnect.mjs — a real WHATWG EventSource client (npm `eventsource`)
// against the API server's SSE stream: the server closes the stream every 25 events,
// the client reconnects on its own with Last-Event-ID, and the test proves every id
// arrived exactly once, in order. Then the client kills its own connection and resumes
// with a new EventSource from the last id, again with no gap and no duplicate.
//   node sse_reconnect.mjs path/to/api_test_server
import { check, checkEqual, importModule, run, startServer, waitFor } from './lib/harness.mjs';

const serverBinary = process.argv[2];
if (!serverBinary) {
  console.error('usage: node sse_reconnect.mjs path/to/api_test_server');
  process.exit(2);
}

/** The counter's next seq: the id of the first live event of a one-event stream. */
async function currentSeq(url) {
  const text = await (await fetch(`${url}/test/events?close_after=1`)).text();
  return Number(/^id: (\d+)$/m.exec(text)[1]);
}

run(async () => {
  const { EventSource } = await importModule('eventsource');
  const server = await startServer(serverBinary, ['--listen', '127.0.0.1:0', '--tick-ms', '5']);
  try {
    // 1. server-side closes: the client reconnects by itself with Last-Event-ID
    const want = 200;
    const ids = [];
    let opens = 0;
    let errors = 0;
    const headersSeen = [];
    const es = new EventSource(`${server.url}/test/events?after=0&close_after=25`, {
      fetch: (input, init) => {
        headersSeen.push(new Headers(init?.headers).get('last-event-id'));
        return fetch(input, init);
      },
    });
    es.addEventListener('open', () => opens++);
    es.addEventListener('error', () => errors++);
    es.addEventListener('tick', (e) => {
      ids.push(Number(e.lastEventId));
      checkEqual(JSON.parse(e.data), { seq: Number(e.lastEventId) }, `data of event ${e.lastEventId}`);
    });
    await waitFor(() => ids.length >= want, `${want} events`, { timeoutMs: 30000 });
    es.close();
    const first = ids.slice(0, want);
    checkEqual(first, Array.from({ length: want }, (_, i) => i + 1), 'ids 1..200 exactly once, in order');
    check(opens >= want / 25, 'reconnected after every server close', `${opens} opens`);
    check(errors >= want / 25 - 1, 'saw the disconnects', `${errors} error events`);
    check(headersSeen[0] === null, 'the first request has no Last-Event-ID');
    checkEqual(headersSeen.slice(1, 4), ['25', '50', '75'], 'reconnects send Last-Event-ID');

    // 2. the client drops the connection itself and resumes from the last id it saw
    const seen = [];
    const last = await new Promise((resolve, reject) => {
      const a = new EventSource(`${server.url}/test/events`);  // live, from now
      a.addEventListener('tick', (e) => {
        seen.push(Number(e.lastEventId));
        if (seen.length === 30) {
          a.close();
          resolve(seen[seen.length - 1]);
        }
      });
      a.addEventListener('error', (e) => reject(new Error(`stream error: ${e.message}`)));
    });
    // the counter moves on while nobody listens; the resume must backfill it
    await waitFor(async () => (await currentSeq(server.url)) >= last + 20, 'the counter to move 20 past the last id');
    const resumed = [];
    const b = new EventSource(`${server.url}/test/events?after=${last}`);
    b.addEventListener('tick', (e) => resumed.push(Number(e.lastEventId)));
    await waitFor(() => resumed.length >= 50, '50 resumed events', { timeoutMs: 20000 });
    b.close();
    const all = [...seen, ...resumed.slice(0, 50)];
    checkEqual(all, Array.from({ length: 80 }, (_, i) => all[0] + i), 'kill and resume: no gap, no duplicate');
    check(all[0] > want, 'the live stream started at the current seq', `${all[0]}`);

    // 3. an expired or malformed cursor is an error the client does not retry blindly
    const status = await new Promise((resolve) => {
      const c = new EventSource(`${server.url}/test/events?after=abc`);
      c.addEventListener('error', (e) => {
        resolve({ code: e.code, state: c.readyState });
        c.close();
      });
    });
    checkEqual(status, { code: 400, state: EventSource.CLOSED }, 'a 400 closes the EventSource for good');
  } finally {
    await server.stop();
  }
});
