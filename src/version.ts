/**
 * `notify --version`: the package version, the git commit it was built from, and the Node.js inside.
 * The executable carries version and commit from its build; the npm install reads package.json and asks
 * git only when it runs from a checkout. Computed only when asked for, so `--help` pays nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { buildInfo, isSea } from './sea.js';

export interface VersionInfo {
  version: string;
  /** Abbreviated commit, `-dirty` when built from a changed tree; "unknown" when not known. */
  commit: string;
  /** process.version of the Node.js running notify. */
  node: string;
  platform: string;
  /** How notify was installed: the single executable, the plain bundle, or npm (dist/). */
  packaging: 'single executable' | 'bundle' | 'npm';
}

/** The version information; reads package.json (and git, from a checkout) outside the bundle. */
export function versionInfo(): VersionInfo {
  const base = { node: process.version, platform: `${process.platform}-${process.arch}` };
  const build = buildInfo();
  if (build) return { ...build, ...base, packaging: isSea() ? 'single executable' : 'bundle' };
  // dist/src/version.js → the package root.
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { version: pkg.version, commit: gitCommit(root), ...base, packaging: 'npm' };
}

/** The checkout's commit, or "unknown" (an npm install has no .git; git may be missing). */
export function gitCommit(root: string): string {
  if (!existsSync(join(root, '.git'))) return 'unknown';
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  const head = git('rev-parse', '--short=12', 'HEAD');
  if (head.status !== 0 || !head.stdout.trim()) return 'unknown';
  const dirty = git('status', '--porcelain', '--untracked-files=no');
  return head.stdout.trim() + (dirty.status === 0 && dirty.stdout.trim() ? '-dirty' : '');
}

export function formatVersion(v: VersionInfo): string {
  return `notify ${v.version}\ncommit ${v.commit}\nnode ${v.node} (${v.platform}, ${v.packaging})\n`;
}


export function printVersion(write: (text: string) => void): void {
  write(formatVersion(versionInfo()));
}
