/**
 * The daemon's heap.
 *
 * Old generation: V8 lets it grow to about four times what survives a full collection before it
 * collects again. A draining daemon promotes a steady stream of short-lived rows (a lane's window
 * outlives a young-generation collection), so that headroom is mostly garbage: about 30 MB of RSS. A
 * growth of 30% keeps it near the live size for the same throughput (bench/daemon.ts).
 *
 * Young generation: V8 doubles each semi-space while many objects survive a scavenge, up to 16 MB
 * each (two of them: 32 MB of RSS on the main thread alone). Its size limit is read only at start-up,
 * but the growth factor is read at every growth, so `YoungGenerationCap` lets it double until it
 * reaches the cap and then holds it there (factor 1), watching the collections as they happen. The
 * factor is one flag for the whole process: the API and checkpoint threads stop growing theirs while the
 * main thread's is at its cap (their own young generations are small; the checkpoint thread's has a limit).
 * With sender threads, whose SDKs allocate most, it would hold theirs small too, so the daemon runs it
 * only without them (src/commands/daemon/start.ts).
 * Measured on a 1M drain: peak RSS 165-169 -> 144-147 MB, throughput within noise; a cap of 4 MB
 * promotes more and peaked at 160-162 MB.
 *
 * Both are applied after start-up, so `notify daemon start` needs no node flags. An operator's own heap
 * flags (NODE_OPTIONS or the command line) win.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

export const HEAP_GROWING_PERCENT = 30;
/** The main thread's semi-space cap: the young generation holds 2 x this. */
export const SEMI_SPACE_MB = 8;

const OLD_FLAGS = /--(heap-growing-percent|heap_growing_percent|max-old-space-size|max_old_space_size)\b/;
const YOUNG_FLAGS = /--(max-semi-space-size|max_semi_space_size|semi-space-growth-factor|semi_space_growth_factor|max-new-space-size)\b/;

function chosen(pattern: RegExp, env: NodeJS.ProcessEnv, execArgv: readonly string[]): boolean {
  return pattern.test(env.NODE_OPTIONS ?? '') || execArgv.some((a) => pattern.test(a));
}

/** Applies the daemon's heap growth unless the operator chose heap flags; returns what it set. */
export function tuneHeap(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string | undefined {
  if (chosen(OLD_FLAGS, env, execArgv)) return undefined;
  const flag = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
  setFlagsFromString(flag);
  return flag;
}

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Holds this thread's young generation at 2 x `semiSpaceMb`: after each collection, growth is allowed
 * (factor 2) while the new space is below the cap and stopped (factor 1) once it reaches it. V8 may
 * still shrink it when allocation slows; growth then resumes up to the cap.
 */
export class YoungGenerationCap {
  readonly #capBytes: number;
  #factor = 2;
  #observer: PerformanceObserver | undefined;

  constructor(semiSpaceMb = SEMI_SPACE_MB) {
    this.#capBytes = semiSpaceMb * 2 * 1024 * 1024;
  }

  /** Starts watching unless the operator chose young-generation flags; returns whether it did. */
  start(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): boolean {
    if (this.#observer || chosen(YOUNG_FLAGS, env, execArgv)) return false;
    this.#observer = new PerformanceObserver(() => this.#adjust());
    this.#observer.observe({ entryTypes: ['gc'] });
    this.#adjust();
    return true;
  }

  #adjust(): void {
    const factor = newSpaceBytes() >= this.#capBytes ? 1 : 2;
    if (factor === this.#factor) return;
    this.#factor = factor;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  }

  /** Stops watching and gives V8 back its default growth. */
  stop(): void {
    this.#observer?.disconnect();
    this.#observer = undefined;
    if (this.#factor !== 2) setFlagsFromString('--semi-space-growth-factor=2');
    this.#factor = 2;
  }
}
