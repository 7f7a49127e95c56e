/**
 * Where a command's output goes. Data goes to stdout; progress and notices go to stderr, and only when
 * stderr is a terminal. Tests pass an IO that captures both.
 */
export interface IO {
  stdout: { write(chunk: string): unknown; columns?: number };
  stderr: { write(chunk: string): unknown };
  /** Standard input, for `-` file arguments. */
  stdin: NodeJS.ReadableStream;
  /** stdout is a terminal: tables for people instead of tab-separated rows. */
  isTTY: boolean;
  /** stderr is a terminal: progress bars and notices are shown. */
  errIsTTY: boolean;
  /** stdin is a terminal: prompts may be asked. */
  inIsTTY: boolean;
  /** Colour allowed (terminal and NO_COLOR unset). */
  color: boolean;
  env: NodeJS.ProcessEnv;
}

export function processIO(): IO {
  const isTTY = Boolean(process.stdout.isTTY);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isTTY,
    errIsTTY: Boolean(process.stderr.isTTY),
    inIsTTY: Boolean(process.stdin.isTTY),
    color: isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb',
    env: process.env,
  };
}

/** A column of a listing: its header for people and how to read it from a row. */
export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Prints rows: JSON with `json` (the rows' own stable field names, via `toJson`), a table on a terminal,
 * tab-separated values without a header when piped (like gh).
 */
export async function printRows<T>(
  io: IO,
  rows: T[],
  columns: Column<T>[],
  options: { json?: boolean; toJson?: (row: T) => unknown; empty?: string } = {},
): Promise<void> {
  if (options.json) {
    io.stdout.write(JSON.stringify(rows.map(options.toJson ?? ((r) => r)), null, 2) + '\n');
    return;
  }
  if (!io.isTTY) {
    for (const row of rows) io.stdout.write(columns.map((c) => cell(c.value(row)).replace(/[\t\n]/g, ' ')).join('\t') + '\n');
    return;
  }
  if (rows.length === 0) {
    io.stdout.write((options.empty ?? 'Nothing to show.') + '\n');
    return;
  }
  const { default: Table } = await import('cli-table3');
  const table = new Table({ head: columns.map((c) => c.header), style: { head: io.color ? ['cyan'] : [], border: [] } });
  for (const row of rows) table.push(columns.map((c) => cell(c.value(row))));
  io.stdout.write(table.toString() + '\n');
}

/** Prints one record: JSON with `json`, else `key: value` lines (tab-separated when piped). */
export function printRecord(io: IO, record: Record<string, unknown>, options: { json?: boolean; jsonValue?: unknown } = {}): void {
  if (options.json) {
    io.stdout.write(JSON.stringify(options.jsonValue ?? record, null, 2) + '\n');
    return;
  }
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  for (const [key, value] of Object.entries(record)) {
    io.stdout.write(io.isTTY ? `${key.padEnd(width)}  ${cell(value)}\n` : `${key}\t${cell(value)}\n`);
  }
}

/** A notice for people: stderr, only on a terminal. */
export function notice(io: IO, message: string): void {
  if (io.errIsTTY) io.stderr.write(message + '\n');
}

/** A progress line redrawn in place on stderr, only on a terminal. */
export class Progress {
  private last = 0;
  constructor(private io: IO, private label: string, private total?: number) {}
  update(done: number, force = false): void {
    if (!this.io.errIsTTY) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    let line = `${this.label} ${done.toLocaleString('en-US')}`;
    if (this.total) {
      const frac = Math.min(1, done / this.total);
      const width = 30;
      const filled = Math.round(frac * width);
      line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')}`;
    }
    this.io.stderr.write(`\r${line}\x1b[K`);
  }
  done(): void {
    if (this.io.errIsTTY) this.io.stderr.write('\r\x1b[K');
  }
}
