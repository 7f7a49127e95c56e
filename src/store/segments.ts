/** Segments: named filters over users. `all` is built in and matches every user. */
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';
import type { SqlFilter } from './users.js';
import { compileSegment } from '../core/segment.js';
import { InputError, NotFoundError } from '../errors.js';

/** The built-in segment of every user. It has no expression and cannot be created, changed or deleted. */
export const ALL_SEGMENT = 'all';

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;
const MAX_NAME = 64;

export interface Segment {
  name: string;
  /** The filter; null only for the built-in `all`. */
  expression: string | null;
  description: string | null;
  builtIn: boolean;
  /** ISO times; null for the built-in `all`. */
  createdAt: string | null;
  updatedAt: string | null;
}

export interface SegmentChanges {
  expression?: string;
  /** null or '' clears it. */
  description?: string | null;
}

interface SegmentRow {
  name: string; expression: string; description: string | null; created_at: number; updated_at: number;
}

const BUILT_IN_ALL: Segment = {
  name: ALL_SEGMENT, expression: null, description: 'every user (built in)', builtIn: true, createdAt: null, updatedAt: null,
};

function toSegment(row: SegmentRow): Segment {
  return {
    name: row.name, expression: row.expression, description: row.description, builtIn: false,
    createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function checkName(name: string): void {
  if (name.length > MAX_NAME || !NAME_RE.test(name)) {
    throw new InputError(`"${name}" is not a segment name (lowercase letters, digits, - and _, starting with a letter or digit, up to ${MAX_NAME})`, { field: 'name' });
  }
}

const BUILT_IN_REFUSALS = {
  create: '"all" is the built-in segment of every user: choose another name',
  update: 'the built-in segment "all" (every user) cannot be changed: create a segment of your own instead',
  delete: 'the built-in segment "all" (every user) cannot be deleted',
};

function refuseBuiltIn(name: string, verb: keyof typeof BUILT_IN_REFUSALS): void {
  if (name === ALL_SEGMENT) throw new InputError(BUILT_IN_REFUSALS[verb], { field: 'name' });
}

function cleanDescription(description: string | null | undefined): string | null {
  const d = description?.trim();
  return d ? d : null;
}

export class SegmentStore {
  constructor(private db: Database, private clock: Clock) {}

  async get(name: string): Promise<Segment | undefined> {
    if (name === ALL_SEGMENT) return { ...BUILT_IN_ALL };
    const row = this.db.prepare('SELECT * FROM segments WHERE name = ?').get(name) as SegmentRow | undefined;
    return row && toSegment(row);
  }

  async require(name: string): Promise<Segment> {
    const segment = await this.get(name);
    if (!segment) throw new NotFoundError(`no segment "${name}": see notify segments list`);
    return segment;
  }

  /** `all` first, then the stored segments by name. */
  async list(): Promise<Segment[]> {
    const rows = this.db.prepare('SELECT * FROM segments ORDER BY name').all() as SegmentRow[];
    return [{ ...BUILT_IN_ALL }, ...rows.map(toSegment)];
  }

  /** Validates the name and compiles the expression before writing anything. */
  async create(name: string, expression: string, description?: string | null): Promise<Segment> {
    refuseBuiltIn(name, 'create');
    checkName(name);
    compileSegment(expression);
    const now = this.clock.now();
    try {
      this.db.prepare('INSERT INTO segments (name, expression, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(name, expression.trim(), cleanDescription(description), now, now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new InputError(`segment "${name}" already exists: use "notify segments update ${name}"`, { field: 'name' });
      }
      throw err;
    }
    return (await this.get(name))!;
  }

  async update(name: string, changes: SegmentChanges): Promise<Segment> {
    refuseBuiltIn(name, 'update');
    const current = await this.require(name);
    if (changes.expression !== undefined) compileSegment(changes.expression);
    const expression = changes.expression !== undefined ? changes.expression.trim() : current.expression;
    const description = changes.description !== undefined ? cleanDescription(changes.description) : current.description;
    this.db.prepare('UPDATE segments SET expression = ?, description = ?, updated_at = ? WHERE name = ?')
      .run(expression, description, this.clock.now(), name);
    return (await this.get(name))!;
  }

  async delete(name: string): Promise<void> {
    refuseBuiltIn(name, 'delete');
    const removed = this.db.prepare('DELETE FROM segments WHERE name = ?').run(name).changes;
    if (removed === 0) throw new NotFoundError(`no segment "${name}": see notify segments list`);
  }

  /** The segment's condition over `users u`; `all` is `1`. */
  async filter(name: string): Promise<SqlFilter> {
    const segment = await this.require(name);
    if (segment.expression === null) return { sql: '1', params: [] };
    return compileSegment(segment.expression);
  }

  /** How many users the segment matches now. */
  async count(name: string): Promise<number> {
    return this.countWhere(await this.filter(name));
  }

  /** How many users a compiled condition matches. */
  async countWhere(filter: SqlFilter): Promise<number> {
    return this.db.prepare(`SELECT count(*) FROM users u WHERE (${filter.sql})`).pluck().get(...filter.params) as number;
  }
}
