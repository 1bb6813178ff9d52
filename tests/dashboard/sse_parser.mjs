// tests/dashboard/sse_parser.mjs — the dashboard's Server-Sent Events parser (it reads
// the watch streams with fetch, because EventSource cannot send the bearer header)
// against the HTML standard's rules: any line ending (CRLF split across chunks too),
// multi-line data, comments, ids (kept across events, NUL rejected), retry, the space
// after the colon, events without data not dispatched, a field without a colon.
//   node sse_parser.mjs [--node-dir DIR]
import { SseParser } from '../../api/dashboard/src/sse.js';
import { harness, parseArgs } from './lib/browser.mjs';

const { check, checkEqual, run } = await harness(parseArgs());

function parse(chunks) {
  const events = [];
  const retries = [];
  const p = new SseParser((e) => events.push(e), (ms) => retries.push(ms));
  for (const c of chunks) p.push(c);
  return { events, retries };
}

run(async () => {
  let r = parse(['retry: 2000\n\nid: 7\nevent: run\ndata: {"seq":7}\n\n']);
  checkEqual(r.events, [{ type: 'run', data: '{"seq":7}', id: '7' }], 'one event');
  checkEqual(r.retries, [2000], 'retry');

  r = parse(['id: 1\r', '\ndata: a\r\n', 'data: b\r', '\r\nid: 2\rdata:c\r\r']);
  checkEqual(r.events, [{ type: 'message', data: 'a\nb', id: '1' }, { type: 'message', data: 'c', id: '2' }], 'CR, LF, CRLF and CRLF split across chunks');

  r = parse([': keep-alive\n\n', 'data:  two spaces\n\n', 'data\n\n']);
  checkEqual(r.events, [{ type: 'message', data: ' two spaces', id: null }, { type: 'message', data: '', id: null }], 'comments skipped, one space removed, a field without a colon');

  r = parse(['id: 5\nevent: bookmark\n\n', 'data: x\n\n']);
  checkEqual(r.events, [{ type: 'message', data: 'x', id: '5' }], 'an event without data is not dispatched, its id is kept and its type reset');

  r = parse(['id: 9\ndata: a\n\nid: bad\0id\ndata: b\n\n']);
  checkEqual(r.events.map((e) => e.id), ['9', '9'], 'an id with NUL is ignored');

  r = parse(['retry: soon\ndata: y\n\n']);
  checkEqual(r.retries, [], 'a non-numeric retry is ignored');

  const big = JSON.stringify({ text: 'é'.repeat(5000) });
  r = parse(['data: ', big.slice(0, 1234), big.slice(1234), '\n', '\n']);
  check(r.events.length === 1 && r.events[0].data === big, 'a large event split across chunks');
});
