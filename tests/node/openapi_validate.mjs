// tests/node/openapi_validate.mjs — real responses of the API server validated against
// the OpenAPI document it serves (GET /openapi.json), with ajv (JSON Schema 2020-12):
// the built-in routes and every kind of problem response. Also the route/document
// comparison machinery on the server's own route list (--print-routes).
//   node openapi_validate.mjs path/to/api_test_server
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, checkEqual, repoRoot, run, startServer } from './lib/harness.mjs';
import { compareRoutes, openapiValidator } from './lib/openapi.mjs';

const serverBinary = process.argv[2];
if (!serverBinary) {
  console.error('usage: node openapi_validate.mjs path/to/api_test_server');
  process.exit(2);
}

async function call(url, init) {
  const r = await fetch(url, init);
  const type = r.headers.get('content-type') ?? '';
  const text = await r.text();
  const body = type.includes('json') && text ? JSON.parse(text) : text;
  return { status: r.status, type, body, text, headers: r.headers };
}

run(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigy-openapi-'));
  const token = 'validate-token-0123456789abcdef';
  writeFileSync(join(dir, 'token'), token + '\n', { mode: 0o600 });
  const server = await startServer(serverBinary, ['--listen', '127.0.0.1:0']);
  const guarded = await startServer(serverBinary, ['--listen', '127.0.0.1:0', '--token-file', join(dir, 'token')]);
  try {
    const served = await call(`${server.url}/openapi.json`);
    checkEqual(served.status, 200, 'GET /openapi.json');
    check(served.text === readFileSync(join(repoRoot, 'api/openapi/vigy.openapi.json'), 'utf8'), 'the served document is the repository file');
    const doc = served.body;
    const v = await openapiValidator(doc);
    const expectValid = (errors, what) => check(errors.length === 0, what, errors.join('; '));

    // the validator is not vacuous
    check(v.validateSchema('Liveness', { status: 'down' }).length > 0, 'a wrong body is rejected');
    check(v.validateSchema('Problem', { status: 404 }).length > 0, 'an incomplete problem is rejected');
    check(v.validateSchema('Vigy', { id: 'x' }).length > 0, 'a wrong vigy is rejected');

    let r = await call(`${server.url}/livez`);
    expectValid(v.validateResponse('GET', '/livez', r.status, r.type, r.body), 'GET /livez 200');
    r = await call(`${server.url}/readyz`);
    expectValid(v.validateResponse('GET', '/readyz', r.status, r.type, r.body), 'GET /readyz 200');
    await call(`${server.url}/test/readiness`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ready: false, reason: 'lease not held' }),
    });
    r = await call(`${server.url}/readyz`);
    checkEqual(r.status, 503, 'GET /readyz when unready');
    expectValid(v.validateResponse('GET', '/readyz', r.status, r.type, r.body), 'GET /readyz 503 problem');
    r = await call(`${server.url}/metrics`);
    expectValid(v.validateResponse('GET', '/metrics', r.status, r.type, r.body), 'GET /metrics 200');
    expectValid(v.validateResponse('GET', '/openapi.json', 200, served.type, doc), 'GET /openapi.json 200');
    r = await call(`${server.url}/openapi.json`, { headers: { 'if-none-match': served.headers.get('etag') } });
    expectValid(v.validateResponse('GET', '/openapi.json', r.status, r.type, r.text), 'GET /openapi.json 304');

    // problems: every error the server itself produces has the Problem shape
    for (const path of ['/livez', '/readyz', '/metrics', '/openapi.json']) {
      r = await call(`${guarded.url}${path}`);
      if (path === '/livez') checkEqual(r.status, 200, 'livez needs no token');
      else expectValid(v.validateResponse('GET', path, r.status, r.type, r.body), `GET ${path} 401`);
    }
    const problems = [
      [`${server.url}/nope`, {}, 404],
      [`${server.url}/test/echo/x`, { method: 'DELETE' }, 405],
      [`${server.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' }, 400],
      [`${server.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }, 415],
      [`${server.url}/test/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, 422],
      [`${server.url}/test/throw`, {}, 500],
      [`${server.url}/test/error/failed-precondition?hint=cursor_expired`, {}, 410],
      [`${server.url}/test/error/resource-exhausted`, {}, 429],
      [`${guarded.url}/test/echo/x`, {}, 401],
      [`${server.url}/test/echo/x`, { headers: { origin: 'http://evil.example' } }, 403],
    ];
    for (const [url, init, status] of problems) {
      r = await call(url, init);
      checkEqual(r.status, status, `${init.method ?? 'GET'} ${url}`);
      check(r.type === 'application/problem+json', `${url} is problem+json`, r.type);
      expectValid(v.validateSchema('Problem', r.body), `${status} body is a Problem`);
      checkEqual(r.body.status, status, `${status} problem status member`);
    }
    r = await call(`${server.url}/test/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":1}' });
    checkEqual(r.body.errors, [{ pointer: '/name', detail: 'must be a string' }, { pointer: '/n', detail: 'required' }], '422 field pointers');

    // the router/document comparison: built-ins documented, fixture routes not
    const routes = JSON.parse(execFileSync(serverBinary, ['--print-routes'], { encoding: 'utf8' }));
    const cmp = compareRoutes(routes, doc);
    check(cmp.undocumented.every((r) => r.includes(' /test/')), 'only the fixture routes are undocumented', cmp.undocumented.join(', '));
    check(cmp.undocumented.length === routes.filter((r) => r.path.startsWith('/test/')).length, 'every fixture route is reported');
    check(!cmp.unserved.some((r) => /\/(livez|readyz|metrics|openapi\.json)$/.test(r)), 'every built-in is served', cmp.unserved.join(', '));
    checkEqual(routes.find((r) => r.path === '/livez'), { method: 'GET', path: '/livez', public: true }, '/livez is the public route');
  } finally {
    await server.stop();
    await guarded.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
