/**
 * What the API server needs of the daemon, whichever thread it runs on: a wake-up after it commits new
 * work, the daemon's metrics for /metrics, and whether the daemon still runs (/healthz).
 */
import type { Channel } from '../../core/types.js';
import type { Daemon } from '../daemon.js';
import { DaemonMetrics } from './metrics.js';

export interface DaemonLink {
  /** Claim now: new work on these channels (or any) was committed. */
  wake(channels?: readonly Channel[]): void;
  /** The daemon's metrics, Prometheus text. */
  metrics(): Promise<string>;
  /** False once the daemon stopped. */
  running(): boolean;
}

/** The link to a daemon in this thread. `close()` stops listening to it. */
export function linkDaemon(daemon: Daemon): DaemonLink & { close(): void } {
  const metrics = new DaemonMetrics(daemon);
  let stopped = false;
  const onStopped = () => (stopped = true);
  daemon.on('stopped', onStopped);
  return {
    wake: (channels) => daemon.wake(channels),
    metrics: () => metrics.render(),
    running: () => !stopped,
    close() {
      metrics.close();
      daemon.off('stopped', onStopped);
    },
  };
}
