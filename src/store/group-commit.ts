/**
 * Group commit: writes that arrive together (API requests in one turn of the event loop) share one
 * transaction. A commit writes every page it touched to the WAL; a hundred small sends touch the same
 * few index pages, so one commit for all of them writes a small fraction of a hundred commits' pages.
 *
 * A write in a group must not wait on I/O or timers (its awaits are the store's, which settle at once):
 * the transaction stays open until the whole group has run.
 *
 * Each write runs in its own savepoint: one that throws is rolled back alone and rejects alone; the
 * others commit. Callers hear back only after the COMMIT, so a reply never promises a row that is
 * not stored. The daemon's own writes (claims, results, reclaims) never join a group: they go
 * through writeWithoutBlocking, which waits while this connection is inside a transaction. Other
 * writes on this connection are synchronous transactions started from I/O callbacks, which cannot
 * run while a group's writes settle in microtasks.
 */
import type { Database } from './db.js';
import { writeWithoutBlocking } from './db.js';

interface Pending {
  write: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Writes per transaction at most; the rest wait for the next one. */
const GROUP_MAX = 256;

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private db: Database) {}

  /** Transaction control, prepared once (through the connection's statement cache). */
  private control(sql: 'BEGIN IMMEDIATE' | 'COMMIT' | 'ROLLBACK' | 'SAVEPOINT group_write' | 'RELEASE group_write' | 'ROLLBACK TO group_write'): void {
    this.db.prepare(sql).run();
  }

  /** Runs `write` inside the next group's transaction; settles after that transaction commits. */
  run<T>(write: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // Every request read in this turn of the event loop joins before the group starts.
      setImmediate(() => {
        this.scheduled = false;
        this.running = this.running.then(() => this.commitGroup());
      });
    });
  }

  private async commitGroup(): Promise<void> {
    while (this.queue.length) {
      const group = this.queue.splice(0, GROUP_MAX);
      const outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = [];
      try {
        await writeWithoutBlocking(this.db, () => this.control('BEGIN IMMEDIATE'));
      } catch (err) {
        for (const p of group) p.reject(err);
        continue;
      }
      try {
        for (const p of group) {
          this.control('SAVEPOINT group_write');
          try {
            outcomes.push({ ok: true, value: await p.write() });
            this.control('RELEASE group_write');
          } catch (err) {
            this.control('ROLLBACK TO group_write');
            this.control('RELEASE group_write');
            outcomes.push({ ok: false, err });
          }
        }
        this.control('COMMIT');
      } catch (err) {
        if (this.db.inTransaction) this.control('ROLLBACK');
        for (const p of group) p.reject(err);
        continue;
      }
      group.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(o.err);
      });
    }
  }
}
