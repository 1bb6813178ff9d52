// build.mjs — bundles the dashboard: src/ -> OUT (default dist/) with esbuild.
//   node build.mjs [--out DIR]
// Writes exactly the files listed in ASSETS (the C++ build embeds that list): the page,
// one JS bundle, one CSS bundle, the icon and the third-party licences. The output
// depends only on the sources and the versions pinned in package-lock.json (checked
// here, so a stale node_modules cannot produce a different bundle unnoticed).
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ASSETS = ['index.html', 'app.js', 'app.css', 'favicon.svg', 'licenses.txt'];

function fail(msg) {
  console.error(`build-dashboard: ${msg}`);
  process.exit(1);
}

const args = process.argv.slice(2);
let out = join(here, 'dist');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out' && args[i + 1]) out = resolve(args[++i]);
  else fail(`unknown argument ${args[i]} (usage: node build.mjs [--out DIR])`);
}

// The installed packages must be the locked ones.
const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
const versions = {};
for (const name of ['esbuild', 'uplot']) {
  const want = lock.packages[`node_modules/${name}`]?.version;
  let got;
  try {
    got = JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    fail(`${name} is not installed in ${join(here, 'node_modules')}: run scripts/build-dashboard.sh (it runs npm ci)`);
  }
  if (got !== want) fail(`${name} ${got} is installed but package-lock.json pins ${want}: run npm ci in ${here}`);
  versions[name] = got;
}

const { build } = await import('esbuild');

const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
try {
  const result = await build({
    absWorkingDir: here,
    entryPoints: { app: 'src/main.js' },
    bundle: true,
    format: 'esm',
    minify: true,
    charset: 'utf8',
    legalComments: 'none',
    target: ['chrome111', 'firefox114', 'safari16.4'],
    banner: {
      js: `/*! vigy dashboard; bundles uPlot ${versions.uplot} (MIT, Leon Sorokin): see licenses.txt */`,
      css: `/*! vigy dashboard; includes uPlot ${versions.uplot} styles (MIT): see licenses.txt */`,
    },
    outdir: tmp,
    write: true,
    logLevel: 'warning',
  });
  if (result.errors.length) fail('esbuild failed');
  copyFileSync(join(here, 'src', 'index.html'), join(tmp, 'index.html'));
  copyFileSync(join(here, 'src', 'favicon.svg'), join(tmp, 'favicon.svg'));
  writeFileSync(join(tmp, 'licenses.txt'),
    `The vigy dashboard includes uPlot ${versions.uplot} (https://github.com/leeoniya/uPlot):\n\n` +
    readFileSync(join(here, 'node_modules', 'uplot', 'LICENSE'), 'utf8'));
  const made = readdirSync(tmp).sort();
  const want = [...ASSETS].sort();
  if (JSON.stringify(made) !== JSON.stringify(want)) fail(`the build made ${made.join(', ')}, expected ${want.join(', ')}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(dirname(out), { recursive: true });
  // rename would be atomic, but keep it simple and portable across file systems
  mkdirSync(out, { recursive: true });
  for (const f of made) copyFileSync(join(tmp, f), join(out, f));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
for (const f of ASSETS) {
  const size = readFileSync(join(out, f)).length;
  console.log(`${f.padEnd(14)} ${String(size).padStart(8)} bytes`);
}
