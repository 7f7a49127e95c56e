/**
 * Group commit: writes that arrive together (API requests in one turn of the event loop) share one
 * transaction. A commit writes every page it touched to the WAL; a hundred small sends touch the same
 * few index pages, so one commit for all of them writes a small fraction of a hundred commits' pages.
 *
 * A write in a group must not wait on I/O or timers (its awaits are the store's, which settle at once):
 * the transaction stays open until the whole group has run.
 *
 * A write that throws is rolled back alone and rejects alone; the others commit (see runAll). Callers hear back only after the COMMIT, so a reply never promises a row that is
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

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

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
      let outcomes: Outcome[] | undefined;
      try {
        await writeWithoutBlocking(this.db, () => this.control('BEGIN IMMEDIATE'));
      } catch (err) {
        for (const p of group) p.reject(err);
        continue;
      }
      try {
        outcomes = (await this.runAll(group, false)) ?? (await this.runAll(group, true));
        this.control('COMMIT');
      } catch (err) {
        if (this.db.inTransaction) this.control('ROLLBACK');
        for (const p of group) p.reject(err);
        continue;
      }
      group.forEach((p, i) => {
        const o = outcomes![i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(o.err);
      });
    }
  }

  /**
   * Runs the group's writes in the open transaction. Without savepoints first: a savepoint copies each
   * page a write changes, and nearly every write that fails does so before it changes anything (an
   * unknown template or user). When one fails after changing rows, returns undefined with the whole
   * transaction rolled back and begun again, and the group runs again with a savepoint per write.
   */
  private async runAll(group: Pending[], savepoints: boolean): Promise<Outcome[] | undefined> {
    const outcomes: Outcome[] = [];
    for (const p of group) {
      if (savepoints) this.control('SAVEPOINT group_write');
      const before = savepoints ? 0 : this.changes();
      try {
        outcomes.push({ ok: true, value: await p.write() });
        if (savepoints) this.control('RELEASE group_write');
      } catch (err) {
        if (savepoints) {
          this.control('ROLLBACK TO group_write');
          this.control('RELEASE group_write');
        } else if (this.changes() !== before) {
          this.control('ROLLBACK');
          this.control('BEGIN IMMEDIATE');
          return undefined;
        }
        outcomes.push({ ok: false, err });
      }
    }
    return outcomes;
  }

  /** Rows this connection has inserted, updated or deleted since it opened. */
  private changes(): number {
    return this.db.prepare('SELECT total_changes()').pluck().get() as number;
  }
}
