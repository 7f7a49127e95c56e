// Builds the single executable: dist/notify-<platform>-<arch> (Node's Single Executable Applications).
//
//   node scripts/package.js [--out DIR] [--reproducible] [--quiet]
//
// 1. esbuild bundles src/entry-sea.ts (the CLI and daemon) into one CommonJS script. Each provider SDK
//    (and a few large packages only some commands need) is bundled separately into a chunk, carried as
//    a SEA asset and compiled on first use (src/sea.ts), so `notify --help` does not parse them.
// 2. Assets: the chunks, the worker threads' script (src/entry-worker.ts, bundled like the main script),
//    better-sqlite3's native addon and the SQL migrations, plus manifest.json with
//    each one's SHA-256 (the addon is extracted to a private cache and verified against it).
// 3. `node --experimental-sea-config` writes the preparation blob; a copy of this very node binary gets
//    it injected with postject under the NODE_SEA_FUSE sentinel.
//
// Offline and self-contained: only esbuild and postject from node_modules. The executable carries V8's
// code cache for the main script, so `notify --help` starts faster than the npm-installed CLI (a third
// less time here); V8 writes that cache differently from run to run. --reproducible leaves it out: the
// bundle, the assets and the executable are then byte-for-byte the same from the same tree, lockfile
// and node binary, and start about as fast as the npm-installed CLI.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import esbuild from 'esbuild';

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Packages carried as chunks, compiled on first use: chunk name → the module specifiers src/ imports from
 * it. The provider SDKs, and the large packages only some commands need (the daemon's HTTP API,
 * terminal prompts, phone number metadata, templates, config validation, metrics, logging). Specifiers that share state (firebase-admin/app and
 * /messaging) must sit in one chunk; a chunk must not hand objects to code that checks them with
 * instanceof against a copy in the main bundle.
 */
export const CHUNKS = {
  apns: ['@parse/node-apn'],
  fcm: ['firebase-admin/app', 'firebase-admin/messaging'],
  webpush: ['web-push'],
  twilio: ['twilio'],
  nodemailer: ['nodemailer', 'nodemailer/lib/mail-composer/index.js'],
  fastify: ['fastify'],
  prompts: ['@inquirer/prompts'],
  phone: ['libphonenumber-js'],
  // Libraries --help never runs: parsed only when a command needs them, so the executable starts as
  // fast as the npm-installed CLI (whose modules load lazily from disk).
  yaml: ['yaml'],
  liquid: ['liquidjs'],
  zod: ['zod'],
  metrics: ['prom-client'],
  csv: ['csv-parse'],
  pino: ['pino'],
  cron: ['croner'],
  table: ['cli-table3'],
};

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'dist') },
    reproducible: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const OUT = resolve(args.out);
const SEA_DIR = join(OUT, 'sea');
const ASSETS = join(SEA_DIR, 'assets');
const EXE = join(OUT, `notify-${process.platform}-${process.arch}${process.platform === 'win32' ? '.exe' : ''}`);
const log = (msg) => { if (!args.quiet) process.stderr.write(`package: ${msg}\n`); };
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function fail(msg) {
  process.stderr.write(`package: ${msg}\n`);
  process.exit(1);
}

/** Version from package.json; commit from $NOTIFY_BUILD_COMMIT or git (`-dirty` for a changed tree). */
function buildInfo() {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  let commit = process.env.NOTIFY_BUILD_COMMIT || 'unknown';
  if (!process.env.NOTIFY_BUILD_COMMIT) {
    const git = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const head = git('rev-parse', '--short=12', 'HEAD');
    if (head.status === 0 && head.stdout.trim()) {
      const dirty = git('status', '--porcelain', '--untracked-files=no');
      commit = head.stdout.trim() + (dirty.status === 0 && dirty.stdout.trim() ? '-dirty' : '');
    }
  }
  return { version, commit };
}

/** Fails the build on any esbuild warning: each one is a module that would break at run time. */
function checkWarnings(result, what) {
  if (result.warnings.length === 0) return;
  const text = esbuild.formatMessagesSync(result.warnings, { kind: 'warning', color: false }).join('\n');
  fail(`${what}: esbuild warnings would be run-time failures in the executable:\n${text}`);
}

/** Every import esbuild left outside a bundle must be a Node built-in (a SEA can load nothing else). */
function checkExternals(metafile, what) {
  const builtins = new Set(require('node:module').builtinModules);
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external) continue;
      if (imp.path.startsWith('node:')) continue;
      const name = imp.path;
      if (!builtins.has(name) && !OPTIONAL.has(name)) fail(`${what}: ${imp.path} is not bundled and not a Node built-in (if its package does without it, add it to OPTIONAL)`);
    }
  }
}

/**
 * Optional dependencies their packages require inside try/catch and do without (not installed here):
 * left external, they fail to load in the executable and the package takes its fallback.
 */
const OPTIONAL = new Set(['supports-color']);

const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'silent',
  metafile: true,
  // Keeps builds reproducible: no absolute paths in the output.
  absWorkingDir: ROOT,
  legalComments: 'eof',
  charset: 'utf8',
};

async function buildChunk(name, specifiers) {
  const contents = specifiers.map((s) => `exports[${JSON.stringify(s)}] = require(${JSON.stringify(s)});`).join('\n');
  const outfile = join(ASSETS, 'chunks', `${name}.js`);
  const result = await esbuild.build({
    ...COMMON,
    stdin: { contents, resolveDir: ROOT, sourcefile: `chunk-${name}.js`, loader: 'js' },
    outfile,
    minifyWhitespace: true,
    minifySyntax: true,
  });
  checkWarnings(result, `chunk ${name}`);
  checkExternals(result.metafile, `chunk ${name}`);
  return outfile;
}

/** Resolves SDK specifiers in the main bundle to stubs that load their chunk (src/sea.ts loadChunk). */
const chunkPlugin = {
  name: 'notify-sdk-chunks',
  setup(build) {
    const bySpecifier = new Map(Object.entries(CHUNKS).flatMap(([chunk, specs]) => specs.map((s) => [s, chunk])));
    const packages = new Set([...bySpecifier.keys()].map((s) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/')));
    const filter = new RegExp(`^(${[...packages].map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})(/.*)?$`);
    build.onResolve({ filter }, (a) => {
      if (!bySpecifier.has(a.path)) {
        return { errors: [{ text: `${a.path} is part of a provider SDK chunk but not listed in CHUNKS (scripts/package.js): add it to its chunk` }] };
      }
      return { path: a.path, namespace: 'notify-chunk' };
    });
    build.onLoad({ filter: /.*/, namespace: 'notify-chunk' }, (a) => ({
      contents: `module.exports = require(${JSON.stringify('./src/sea.ts')}).loadChunk(${JSON.stringify(bySpecifier.get(a.path))})[${JSON.stringify(a.path)}];`,
      resolveDir: ROOT,
      loader: 'js',
    }));
  },
};

/**
 * `createRequire(import.meta.url)('pkg')` (src/store/db.ts, src/core/validate.ts) becomes `require('pkg')`
 * so esbuild bundles the package; the require stays lazy, as in the ES module build.
 */
const createRequirePlugin = {
  name: 'notify-create-require',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (a) => {
      const source = readFileSync(a.path, 'utf8');
      if (!source.includes('createRequire(import.meta.url)(')) return undefined;
      return { contents: source.replaceAll('createRequire(import.meta.url)(', 'require('), loader: 'ts' };
    });
  },
};

/**
 * The main script (src/entry-sea.ts), or with `worker` the worker threads' script (src/entry-worker.ts:
 * the API thread and the WAL checkpointer), carried as the asset worker.js and run from memory.
 */
async function buildMain(info, worker = false) {
  const outfile = join(worker ? ASSETS : SEA_DIR, worker ? 'worker.js' : 'notify.cjs');
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [join(ROOT, worker ? 'src/entry-worker.ts' : 'src/entry-sea.ts')],
    outfile,
    plugins: [chunkPlugin, createRequirePlugin],
    define: {
      __NOTIFY_BUILD__: JSON.stringify(info),
      // Only dist/-relative paths use it, on code paths the bundle does not take (src/sea.ts decides).
      'import.meta.url': '__notify_import_meta_url',
    },
    banner: { js: 'var __notify_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    minifyWhitespace: true,
    minifySyntax: true,
  });
  const what = worker ? 'worker bundle' : 'main bundle';
  checkWarnings(result, what);
  // What makes the bundle big: esbuild's metafile, for its bundle analyzer.
  if (!worker) writeFileSync(join(SEA_DIR, 'meta.json'), JSON.stringify(result.metafile));
  checkExternals(result.metafile, what);
  return outfile;
}

function copyAssets(info, chunkFiles, workerFile) {
  const assets = {};
  const add = (key, file) => {
    const data = readFileSync(file);
    assets[key] = { file, sha256: sha256(data), size: data.length };
  };
  for (const file of chunkFiles) add(`chunks/${file.split('/').at(-1)}`, file);
  add('worker.js', workerFile);

  const addon = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
  // The addon must load in this node (the one copied into the executable): same ABI.
  try {
    process.dlopen({ exports: {} }, addon);
  } catch (err) {
    fail(`${addon} does not load in this node (${process.version}, ABI ${process.versions.modules}): ${err.message}; rebuild it with npm rebuild better-sqlite3`);
  }
  copyFileSync(addon, join(ASSETS, 'better_sqlite3.node'));
  add('better_sqlite3.node', join(ASSETS, 'better_sqlite3.node'));

  mkdirSync(join(ASSETS, 'migrations'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'src/store/migrations')).filter((f) => /^\d+_.+\.sql$/.test(f)).sort()) {
    copyFileSync(join(ROOT, 'src/store/migrations', name), join(ASSETS, 'migrations', name));
    add(`migrations/${name}`, join(ASSETS, 'migrations', name));
  }

  const manifest = { ...info, assets: Object.fromEntries(Object.entries(assets).sort().map(([k, v]) => [k, { sha256: v.sha256, size: v.size }])) };
  writeFileSync(join(ASSETS, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { ...Object.fromEntries(Object.entries(assets).map(([k, v]) => [k, v.file])), 'manifest.json': join(ASSETS, 'manifest.json') };
}

async function inject(blob) {
  const node = readFileSync(process.execPath);
  if (!node.includes(`${SEA_FUSE}:0`)) {
    fail(`${process.execPath} has no unused SEA fuse (${SEA_FUSE}:0): build with an official Node.js 20.12+ binary, not a single executable or a distribution build without SEA`);
  }
  rmSync(EXE, { force: true });
  copyFileSync(process.execPath, EXE);
  chmodSync(EXE, 0o755);
  const { inject: postject } = require('postject');
  await postject(EXE, 'NODE_SEA_BLOB', blob, { sentinelFuse: SEA_FUSE });
}

async function packageExecutable() {
  const started = Date.now();
  const info = buildInfo();
  rmSync(SEA_DIR, { recursive: true, force: true });
  mkdirSync(join(ASSETS, 'chunks'), { recursive: true });

  const chunkFiles = await Promise.all(Object.entries(CHUNKS).map(([name, specs]) => buildChunk(name, specs)));
  const [main, workerFile] = await Promise.all([buildMain(info), buildMain(info, true)]);
  const assets = copyAssets(info, chunkFiles, workerFile);
  log(`bundled ${(readFileSync(main).length / 1e6).toFixed(1)} MB main script, ${chunkFiles.length} chunks (${info.version}, ${info.commit})`);

  const blobFile = join(SEA_DIR, 'sea-prep.blob');
  // Paths relative to SEA_DIR (the generator's cwd): the blob must not depend on where --out points.
  const rel = (file) => relative(SEA_DIR, file);
  const config = {
    main: rel(main),
    output: rel(blobFile),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: !args.reproducible,
    assets: Object.fromEntries(Object.entries(assets).map(([k, f]) => [k, rel(f)])),
  };
  writeFileSync(join(SEA_DIR, 'sea-config.json'), JSON.stringify(config, null, 2) + '\n');
  const gen = spawnSync(process.execPath, ['--experimental-sea-config', join(SEA_DIR, 'sea-config.json')], { cwd: SEA_DIR, encoding: 'utf8' });
  if (gen.status !== 0) fail(`node --experimental-sea-config failed:\n${gen.stderr}`);
  const blob = readFileSync(blobFile);

  await inject(blob);
  const check = spawnSync(EXE, ['--help'], { encoding: 'utf8', cwd: OUT, env: { PATH: '/nonexistent' } });
  if (check.status !== 0 || !check.stdout.includes('Usage: notify')) fail(`the executable does not run:\n${check.stdout}${check.stderr}`);
  log(`wrote ${EXE} (${(readFileSync(EXE).length / 1e6).toFixed(0)} MB, blob sha256 ${sha256(blob).slice(0, 16)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await packageExecutable();
