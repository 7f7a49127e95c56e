/**
 * Runtime helpers for the bundled CLI (scripts/package.js): the single executable (Node SEA) and the
 * plain bundle it is made from. Outside a bundle every function here is inert and loads nothing, so the
 * npm-installed CLI behaves exactly as before.
 *
 * Inside the bundle, files that must exist on disk — better-sqlite3's native addon — are carried as SEA
 * assets and extracted once into a private cache directory (0700, owned by this user), named by their
 * SHA-256 and verified against the build manifest every time they are used. Provider SDKs are carried as
 * separately bundled chunks, compiled from memory on first use, so `notify --help` never parses them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Set by scripts/package.js with esbuild's `define`; absent (undefined) when running from dist/. */
declare const __NOTIFY_BUILD__: BuildInfo | undefined;

export interface BuildInfo {
  version: string;
  /** Abbreviated git commit the executable was built from, `-dirty` when the tree had changes; or "unknown". */
  commit: string;
}

/** The build manifest, asset `manifest.json`: every other asset with its SHA-256. */
export interface Manifest extends BuildInfo {
  assets: Record<string, { sha256: string; size: number }>;
}

interface SeaModule {
  isSea(): boolean;
  getRawAsset(key: string): ArrayBuffer;
}

/** Build information when running from the bundle, else undefined. */
export function buildInfo(): BuildInfo | undefined {
  return typeof __NOTIFY_BUILD__ === 'undefined' ? undefined : __NOTIFY_BUILD__;
}

/** True inside the bundle (the single executable, or `node notify.cjs`). */
export function isBundle(): boolean {
  return buildInfo() !== undefined;
}

let seaModule: SeaModule | null | undefined;
function sea(): SeaModule | null {
  if (seaModule === undefined) {
    seaModule = null;
    if (isBundle()) {
      try {
        // `require` here is the bundle's CommonJS require; in a SEA it loads built-in modules only.
        const m = require('node:sea') as SeaModule;
        if (m.isSea()) seaModule = m;
      } catch {
        // Node without node:sea (older than 20.12): not a single executable.
      }
    }
  }
  return seaModule;
}

/** True inside the single executable. */
export function isSea(): boolean {
  return sea() !== null;
}

/** The bytes of an asset: from the executable, or from `assets/` next to the plain bundle. */
function readAsset(key: string): Buffer {
  const s = sea();
  if (s) return Buffer.from(s.getRawAsset(key));
  if (!isBundle()) throw new Error(`asset ${key}: not running from the bundle`);
  return readFileSync(join(__dirname, 'assets', key));
}

let manifestCache: Manifest | undefined;
/** The build manifest (bundle only). */
export function manifest(): Manifest {
  manifestCache ??= JSON.parse(readAsset('manifest.json').toString('utf8')) as Manifest;
  return manifestCache;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Where extracted assets live: $NOTIFY_CACHE_DIR, systemd's $CACHE_DIRECTORY (the unit's own directory
 * already: the first when it names several), $XDG_CACHE_HOME/notify, ~/.cache/notify; the temp directory
 * only when there is no home at all. The deploy guide's commands set NOTIFY_CACHE_DIR to the service's
 * cache directory, so both find one copy.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NOTIFY_CACHE_DIR) return env.NOTIFY_CACHE_DIR;
  if (env.CACHE_DIRECTORY) return env.CACHE_DIRECTORY.split(':')[0]!;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'notify');
  let home = '';
  try {
    home = homedir();
  } catch {
    // A user without a home directory (a system account): fall through.
  }
  if (home && home !== '/') return join(home, '.cache', 'notify');
  return join(tmpdir(), `notify-cache-${process.getuid?.() ?? 'user'}`);
}

/** Creates `dir` (0700) or checks that an existing one is a real directory of ours that nobody else can write. */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new Error(`the cache directory ${dir} is not a directory owned by this user: remove it or set NOTIFY_CACHE_DIR to a private directory`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function fileMatches(path: string, hash: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isFile() && sha256(readFileSync(path)) === hash;
  } catch {
    return false;
  }
}

/**
 * Extracts asset `key` to `<cacheRoot>/<sha256>/<name>` unless an identical copy is there already, and
 * returns the path. The copy is verified against the manifest's SHA-256 each time, so a corrupted or
 * replaced file is rewritten rather than loaded. Outside the executable, the plain bundle's own file.
 */
export function assetPath(key: string, root = cacheRoot()): string {
  const entry = manifest().assets[key];
  if (!entry) throw new Error(`asset ${key} is not in this build's manifest`);
  if (!isSea()) {
    const path = join(__dirname, 'assets', key);
    if (!fileMatches(path, entry.sha256)) throw new Error(`${path} does not match this build (SHA-256 differs): rebuild with npm run package`);
    return path;
  }
  privateDir(root);
  const dir = join(root, entry.sha256);
  privateDir(dir);
  const file = join(dir, key.split('/').at(-1)!);
  if (fileMatches(file, entry.sha256)) return file;
  const data = readAsset(key);
  if (sha256(data) !== entry.sha256) throw new Error(`asset ${key} in this executable is corrupt (SHA-256 differs from its manifest)`);
  // Write beside, then rename: a concurrent start never sees half a file.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o700);
  try {
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  if (!fileMatches(file, entry.sha256)) throw new Error(`${file} changed while it was being extracted: check who else writes to ${dirname(file)}`);
  return file;
}

let sqliteAddon: object | undefined;
/**
 * better-sqlite3's native addon for the `nativeBinding` option: loaded from the extracted asset in the
 * bundle; undefined outside it (better-sqlite3 then finds its own build).
 */
export function sqliteBinding(): object | undefined {
  if (!isBundle()) return undefined;
  if (!sqliteAddon) {
    const mod = { exports: {} as object };
    process.dlopen(mod, assetPath('better_sqlite3.node'));
    sqliteAddon = mod.exports;
  }
  return sqliteAddon;
}

/** The SQL migrations carried in the bundle (`migrations/NNN_name.sql`), or undefined outside it. */
export function embeddedMigrations(): { name: string; sql: string }[] | undefined {
  if (!isBundle()) return undefined;
  return Object.keys(manifest().assets)
    .filter((k) => k.startsWith('migrations/'))
    .sort()
    .map((k) => ({ name: k.slice('migrations/'.length), sql: readAsset(k).toString('utf8') }));
}

const chunks = new Map<string, unknown>();
/**
 * A provider SDK chunk (`chunks/<name>.js`, built by scripts/package.js): its exports, keyed by the
 * module specifiers it stands for. Compiled from memory on first use; it requires built-ins only.
 */
export function loadChunk(name: string): Record<string, unknown> {
  if (!chunks.has(name)) {
    const key = `chunks/${name}.js`;
    const code = readAsset(key).toString('utf8');
    // Loaded lazily: only a process that sends through a real provider pays for vm.
    const { compileFunction } = require('node:vm') as typeof import('node:vm');
    const filename = `/notify/${key}`;
    const fn = compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
    const mod = { exports: {} as unknown };
    fn.call(mod.exports, mod.exports, require, mod, filename, dirname(filename));
    chunks.set(name, mod.exports);
  }
  return chunks.get(name) as Record<string, unknown>;
}

/**
 * The source of a worker thread's bundle (asset `key`, checked against the manifest), to start with
 * `new Worker(code, { eval: true })`: the executable has no files to start one from. Wrapped so the
 * bundle's `__dirname` and `__filename` are this bundle's, as a plain `node notify.cjs` needs for its
 * assets directory.
 */
export function workerCode(key: string): string {
  const entry = manifest().assets[key];
  const data = readAsset(key);
  if (!entry || sha256(data) !== entry.sha256) throw new Error(`asset ${key} in this build is missing or corrupt (SHA-256 differs from its manifest)`);
  return `(function (__filename, __dirname) {\n${data.toString('utf8')}\n})(${JSON.stringify(__filename)}, ${JSON.stringify(__dirname)});`;
}

/**
 * How to start this CLI again in a child process, as [command, ...args] before the CLI's own arguments:
 * the executable alone, `node notify.cjs`, or undefined outside the bundle (bin/notify.js is used).
 */
export function selfCommand(): string[] | undefined {
  if (!isBundle()) return undefined;
  return isSea() ? [process.execPath] : [process.execPath, __filename];
}
