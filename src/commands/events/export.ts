/** `notify events export`: engagement and delivery events as JSONL or CSV, for analytics tools. */
import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { parseDuration } from '../../core/time.js';
import { UsageError } from '../../errors.js';

export interface ExportOptions {
  since?: string;
  until?: string;
  format?: string;
  /** engagement, deliveries or all (default). */
  stream?: string;
}

const COLUMNS = ['stream', 'id', 'type', 'at', 'notification_id', 'delivery_id', 'user_id', 'channel', 'category', 'template', 'machine', 'source', 'detail'];

export function register(parent: Command, ctx: Ctx): void {
  parent.command('export')
    .description('write engagement (opened, clicked, unsubscribed, receipts) and delivery events to stdout')
    .option('--since <when>', 'events at or after: a duration (7d) or a date')
    .option('--until <when>', 'events before: a duration ago or a date')
    .option('--format <format>', 'jsonl (default) or csv', 'jsonl')
    .option('--stream <stream>', 'engagement, deliveries or all (default all)', 'all')
    .addHelpText('after', '\nExamples:\n  $ notify events export --since 7d > events.jsonl\n  $ notify events export --since 2026-11-01 --format csv --stream engagement > opens.csv')
    .action(ctx.action(async (deps, opts: ExportOptions) => {
      await run(opts, deps, (line) => deps.io.stdout.write(line));
    }));
}

function when(text: string, now: number, flag: string): number {
  const d = parseDuration(text);
  if (d !== undefined) return now - d;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} "${text}" is neither a duration (7d) nor a date (2026-11-01)`);
  return ms;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Streams rows out in pages; returns how many were written. */
export async function run(options: ExportOptions, deps: Deps, write: (line: string) => void): Promise<number> {
  if (options.format !== undefined && options.format !== 'jsonl' && options.format !== 'csv') throw new UsageError('--format must be jsonl or csv');
  const streams = options.stream === 'all' || options.stream === undefined ? ['engagement', 'deliveries'] as const
    : options.stream === 'engagement' || options.stream === 'deliveries' ? [options.stream] as const : undefined;
  if (!streams) throw new UsageError('--stream must be engagement, deliveries or all');
  const now = deps.clock.now();
  const since = options.since ? when(options.since, now, '--since') : undefined;
  const until = options.until ? when(options.until, now, '--until') : undefined;
  const store = await deps.store();
  const csv = options.format === 'csv';
  if (csv) write(COLUMNS.join(',') + '\n');
  let count = 0;
  for (const stream of streams) {
    let afterId = 0;
    for (;;) {
      const rows = await store.stats.events(stream, { afterId, since, until, limit: 5000 });
      if (rows.length === 0) break;
      for (const r of rows) {
        const row = { ...r, at: new Date(r.at as number).toISOString(), machine: r.machine === 1 };
        write(csv ? COLUMNS.map((c) => csvCell((row as Record<string, unknown>)[c])).join(',') + '\n' : JSON.stringify(row) + '\n');
      }
      count += rows.length;
      afterId = rows.at(-1)!.id as number;
    }
  }
  return count;
}
