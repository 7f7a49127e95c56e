/**
 * The daemon's heap: V8 lets the old generation grow to about four times what survives a full
 * collection before it collects again. A draining daemon promotes a steady stream of short-lived rows
 * (a lane's window outlives a young-generation collection), so that headroom is mostly garbage: about
 * 30 MB of RSS. A growth of 30% keeps it near the live size for the same throughput (bench/daemon.ts).
 *
 * `--heap-growing-percent` is read at every collection, so unlike the heap's size limits it can be set
 * after start-up. An operator's own heap flags (NODE_OPTIONS or the command line) win.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 30;

const OWN_FLAGS = /--(heap-growing-percent|heap_growing_percent|max-old-space-size|max_old_space_size)\b/;

/** Applies the daemon's heap growth unless the operator chose heap flags; returns what it set. */
export function tuneHeap(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string | undefined {
  if (OWN_FLAGS.test(env.NODE_OPTIONS ?? '') || execArgv.some((a) => OWN_FLAGS.test(a))) return undefined;
  const flag = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
  setFlagsFromString(flag);
  return flag;
}
