/**
 * Templates and their versions. Every create or update writes a new version; versions are never changed
 * or removed, because sends record the version they used. Deleting a template hides it (soft delete);
 * its versions stay readable by number, and creating the name again continues the numbering.
 */
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';
import type { TemplateDef } from '../core/template.js';
import { InputError, NotFoundError } from '../errors.js';

/** One version of a template. */
export interface StoredTemplate {
  name: string;
  category: string;
  version: number;
  def: TemplateDef;
  /** When this version was written (ISO 8601). */
  createdAt: string;
}

/** A live template in a listing: its current version plus when the template was first created. */
export interface TemplateSummary extends StoredTemplate {
  /** When the name was first created (ISO 8601). */
  firstCreatedAt: string;
}

export interface TemplateVersion {
  name: string;
  version: number;
  category: string;
  createdAt: string;
  /** The version new sends use; false for all versions of a deleted template. */
  current: boolean;
}

interface TemplateRow { name: string; category: string; current_version: number; deleted_at: number | null; created_at: number; updated_at: number }
interface VersionRow { name: string; version: number; category: string; body: string; created_at: number }

function toStored(row: VersionRow): StoredTemplate {
  return {
    name: row.name, category: row.category, version: row.version,
    def: JSON.parse(row.body) as TemplateDef, createdAt: new Date(row.created_at).toISOString(),
  };
}

export class TemplateStore {
  constructor(private db: Database, private clock: Clock) {}

  private row(name: string): TemplateRow | undefined {
    return this.db.prepare('SELECT * FROM templates WHERE name = ?').get(name) as TemplateRow | undefined;
  }

  private insertVersion(name: string, version: number, def: TemplateDef, now: number): void {
    this.db.prepare('INSERT INTO template_versions (name, version, category, body, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(name, version, def.category, JSON.stringify(def), now);
  }

  private nextVersion(name: string): number {
    const max = this.db.prepare('SELECT max(version) FROM template_versions WHERE name = ?').pluck().get(name) as number | null;
    return (max ?? 0) + 1;
  }

  /** Creates version 1 (or, for a deleted name, the next version). InputError when the name is live. */
  async create(name: string, def: TemplateDef): Promise<StoredTemplate> {
    const now = this.clock.now();
    const version = this.db.transaction(() => {
      const existing = this.row(name);
      if (existing && existing.deleted_at === null) {
        throw new InputError(`template "${name}" already exists: change it with "notify templates update ${name} --file F"`, { field: 'name' });
      }
      const v = this.nextVersion(name);
      this.insertVersion(name, v, def, now);
      if (existing) {
        this.db.prepare('UPDATE templates SET category = ?, current_version = ?, deleted_at = NULL, created_at = ?, updated_at = ? WHERE name = ?')
          .run(def.category, v, now, now, name);
      } else {
        this.db.prepare('INSERT INTO templates (name, category, current_version, deleted_at, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?)')
          .run(name, def.category, v, now, now);
      }
      return v;
    }).immediate();
    return (await this.get(name, version))!;
  }

  /** Writes the next version and makes it current. NotFoundError when there is no live template. */
  async update(name: string, def: TemplateDef): Promise<StoredTemplate> {
    const now = this.clock.now();
    const version = this.db.transaction(() => {
      const existing = this.row(name);
      if (!existing || existing.deleted_at !== null) throw notFound(name);
      const v = this.nextVersion(name);
      this.insertVersion(name, v, def, now);
      this.db.prepare('UPDATE templates SET category = ?, current_version = ?, updated_at = ? WHERE name = ?').run(def.category, v, now, name);
      return v;
    }).immediate();
    return (await this.get(name, version))!;
  }

  /**
   * The current version of a live template, or the given version of any template, deleted or not
   * (past sends name their version).
   */
  async get(name: string, version?: number): Promise<StoredTemplate | undefined> {
    const row = version === undefined
      ? this.db.prepare(`SELECT v.* FROM templates t JOIN template_versions v ON v.name = t.name AND v.version = t.current_version
          WHERE t.name = ? AND t.deleted_at IS NULL`).get(name)
      : this.db.prepare('SELECT * FROM template_versions WHERE name = ? AND version = ?').get(name, version);
    return row ? toStored(row as VersionRow) : undefined;
  }

  async require(name: string, version?: number): Promise<StoredTemplate> {
    const found = await this.get(name, version);
    if (found) return found;
    if (version !== undefined && this.db.prepare('SELECT 1 FROM template_versions WHERE name = ?').get(name)) {
      throw new NotFoundError(`template "${name}" has no version ${version}: see "notify templates versions ${name}"`);
    }
    throw notFound(name);
  }

  /** Live templates by name, each at its current version. */
  async list(): Promise<TemplateSummary[]> {
    const rows = this.db.prepare(`SELECT v.*, t.created_at AS first_created_at FROM templates t
        JOIN template_versions v ON v.name = t.name AND v.version = t.current_version
        WHERE t.deleted_at IS NULL ORDER BY t.name`).all() as (VersionRow & { first_created_at: number })[];
    return rows.map((r) => ({ ...toStored(r), firstCreatedAt: new Date(r.first_created_at).toISOString() }));
  }

  /** Every version of a template, oldest first; deleted templates keep theirs. */
  async versions(name: string): Promise<TemplateVersion[]> {
    const rows = this.db.prepare(`SELECT v.name, v.version, v.category, v.created_at,
          (t.deleted_at IS NULL AND t.current_version = v.version) AS current
        FROM template_versions v LEFT JOIN templates t ON t.name = v.name
        WHERE v.name = ? ORDER BY v.version`).all(name) as (Omit<VersionRow, 'body'> & { current: number | null })[];
    if (rows.length === 0) throw notFound(name);
    return rows.map((r) => ({ name: r.name, version: r.version, category: r.category, createdAt: new Date(r.created_at).toISOString(), current: r.current === 1 }));
  }

  /** Hides a live template from new sends; its versions stay. NotFoundError when there is none. */
  async delete(name: string): Promise<void> {
    const now = this.clock.now();
    const changes = this.db.prepare('UPDATE templates SET deleted_at = ?, updated_at = ? WHERE name = ? AND deleted_at IS NULL').run(now, now, name).changes;
    if (changes === 0) throw notFound(name);
  }
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`no template "${name}": see "notify templates list"`);
}
