// tests/mcp/mcp_http.mjs VIGY — the official MCP SDK client's StreamableHTTPClientTransport
// against a real `vigy serve --listen 127.0.0.1:0`'s POST /mcp: the agent session of
// scenario.mjs (ticks run on serve, the scheduler); then the wire rules of Streamable
// HTTP (202 for notifications, 400 for a body that is not JSON-RPC or an unsupported
// MCP-Protocol-Version, 405 for GET, 415 for a non-JSON body) and the API's security
// rules on /mcp (a serve with --token-file: 401 without the token, the SDK with it; a
// foreign Host or Origin refused).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, checkEqual, importModule, run, startServer } from '../node/lib/harness.mjs';
import { exercise } from './scenario.mjs';

const vigy = process.argv[2];
if (!vigy) {
  console.error('usage: mcp_http.mjs VIGY');
  process.exit(2);
}

const { Client } = await importModule('@modelcontextprotocol/sdk', '/client/index.js');
const { StreamableHTTPClientTransport } = await importModule('@modelcontextprotocol/sdk', '/client/streamableHttp.js');

async function connect(url, requestInit) {
  const transport = new StreamableHTTPClientTransport(new URL(url), requestInit ? { requestInit } : undefined);
  const client = new Client({ name: 'vigy-test', version: '1.0.0' });
  const errors = [];
  client.onerror = (e) => errors.push(String(e));
  await client.connect(transport);
  return { client, transport, errors };
}

const post = (url, body, headers = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** A raw request with any Host/Origin (fetch may not set Host). */
function raw(url, headers) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const r = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

run(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigy-mcp-http-'));
  try {
    const srv = await startServer(vigy, ['--db', join(dir, 'vigy.db'), '-o', 'json', 'serve', '--listen', '127.0.0.1:0']);
    const url = `${srv.url}/mcp`;
    try {
      const s = await connect(url);
      checkEqual(s.transport.protocolVersion, '2025-11-25', 'http: the negotiated version is sent as MCP-Protocol-Version');
      await exercise(s.client, 'http-agent');
      checkEqual(s.errors, [], 'http: no transport errors');
      await s.client.close();

      // ---- Streamable HTTP on the wire ----
      const init = await post(url, { jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      checkEqual([init.status, init.headers.get('content-type')], [200, 'application/json'], 'initialize: 200 JSON');
      checkEqual((await init.json()).result.protocolVersion, '2025-06-18', 'initialize: 2025-06-18 as asked');
      const note = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' });
      checkEqual([note.status, await note.text()], [202, ''], 'a notification: 202 with no body');
      const bad = await post(url, '{"jsonrpc":');
      checkEqual(bad.status, 400, 'not JSON: 400');
      checkEqual((await bad.json()).error.code, -32700, 'not JSON: -32700');
      const badVersion = await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'MCP-Protocol-Version': '2024-01-01' });
      checkEqual(badVersion.status, 400, 'an unsupported MCP-Protocol-Version: 400');
      check(/2024-01-01/.test((await badVersion.json()).error.message), 'the bad version is named');
      const pong = await post(url, { jsonrpc: '2.0', id: 3, method: 'ping' }, { 'MCP-Protocol-Version': '2025-03-26' });
      checkEqual([pong.status, (await pong.json()).result], [200, {}], 'ping with a supported version header');
      const batch = await post(url, [{ jsonrpc: '2.0', id: 4, method: 'ping' }, { jsonrpc: '2.0', id: 5, method: 'nope' }]);
      checkEqual((await batch.json()).map((m) => [m.id, m.error ? m.error.code : 'ok']), [[4, 'ok'], [5, -32601]], 'a batch');
      const get = await fetch(url, { headers: { Accept: 'text/event-stream' } });
      checkEqual(get.status, 405, 'GET /mcp: 405 (no server-initiated stream)');
      const form = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
      checkEqual(form.status, 415, 'a text/plain body: 415');
      const foreignHost = await raw(url, { Host: 'evil.example:80' });
      check(foreignHost.status >= 400 && foreignHost.status < 500, 'a foreign Host: refused', `${foreignHost.status}`);
      const foreignOrigin = await raw(url, { Host: new URL(url).host, Origin: 'https://evil.example' });
      checkEqual(foreignOrigin.status, 403, 'a foreign Origin: 403');
    } finally {
      checkEqual(await srv.stop(), 0, 'serve stops cleanly');
    }

    // ---- the token rule ----
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'mcp-secret-token-0123456789abcdef\n', { mode: 0o600 });
    const secured = await startServer(vigy, ['--db', join(dir, 'vigy2.db'), '-o', 'json', 'serve', '--listen', '127.0.0.1:0',
      '--token-file', tokenFile, '--cors-origin', 'https://app.example']);
    try {
      const surl = `${secured.url}/mcp`;
      const anon = await post(surl, { jsonrpc: '2.0', id: 1, method: 'ping' });
      checkEqual(anon.status, 401, 'token: none is 401');
      const wrong = await post(surl, { jsonrpc: '2.0', id: 1, method: 'ping' }, { Authorization: 'Bearer wrong' });
      checkEqual(wrong.status, 401, 'token: a wrong one is 401');
      const pre = await fetch(surl, { method: 'OPTIONS', headers: { Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, mcp-protocol-version' } });
      checkEqual(pre.status, 204, 'cors: a preflight from an allowed origin');
      check(/MCP-Protocol-Version/.test(pre.headers.get('access-control-allow-headers') || ''),
        'cors: MCP-Protocol-Version is an allowed header', pre.headers.get('access-control-allow-headers'));
      const fromApp = await post(surl, { jsonrpc: '2.0', id: 1, method: 'ping' },
        { Origin: 'https://app.example', Authorization: 'Bearer mcp-secret-token-0123456789abcdef' });
      checkEqual([fromApp.status, fromApp.headers.get('access-control-allow-origin')], [200, 'https://app.example'],
        'cors: the allowed origin with the token');
      const s = await connect(surl, { headers: { Authorization: 'Bearer mcp-secret-token-0123456789abcdef' } });
      const { tools } = await s.client.listTools();
      checkEqual(tools.length, 11, 'token: the SDK client with the token lists the tools');
      await s.client.close();
    } finally {
      checkEqual(await secured.stop(), 0, 'the secured serve stops cleanly');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
