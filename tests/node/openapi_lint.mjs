// tests/node/openapi_lint.mjs — lints the OpenAPI document with @redocly/cli
// (recommended-strict, see redocly.yaml): any problem fails the test.
//   node openapi_lint.mjs path/to/vigy.openapi.json
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { check, modulePath, nodeDir, run } from './lib/harness.mjs';

const doc = process.argv[2];
if (!doc) {
  console.error('usage: node openapi_lint.mjs path/to/vigy.openapi.json');
  process.exit(2);
}

run(async () => {
  const cli = modulePath('@redocly/cli', 'bin/cli.js');
  const r = spawnSync(process.execPath, [cli, 'lint', '--config', join(nodeDir, 'redocly.yaml'), '--format', 'stylish', doc], {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  });
  const out = `${r.stdout}\n${r.stderr}`;
  check(r.status === 0, 'redocly lint exits 0', out);
  check(/Woohoo! Your API description is valid/.test(out), 'redocly reports the document valid', out);
  check(!/warning/i.test(r.stdout), 'no warnings', r.stdout);
});
