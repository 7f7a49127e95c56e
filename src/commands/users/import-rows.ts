/**
 * Reading users import rows: the CSV shape, validation of one row, and validated batches — run on a
 * worker thread for big imports (parsing and phone validation then overlap the database writes).
 */
import type { Config } from '../../config.js';
import { normalizeUser, USER_FIELDS } from '../../core/user.js';
import { inferValue } from '../../core/validate.js';
import { InputError } from '../../errors.js';
import type { UserInput } from '../../store/users.js';
import { readRows, type CsvShape, type ImportFormat, type Part, type RawRow, type Source } from '../import-file.js';
import { normalizeExtras, type UserExtras } from './import-extras.js';

export interface RowError { line: number; field?: string; reason: string }

/** Users CSV: `id` required; user fields by name; every other column an attribute. */
export const USER_CSV: CsvShape = {
  checkHeader(header, line) {
    if (!header.includes('id')) throw new InputError('the CSV header has no "id" column; nothing was imported', { line });
  },
  toFields(header, record) {
    const fields: Record<string, unknown> = {};
    const attributes: Record<string, unknown> = {};
    header.forEach((name, i) => {
      const cell = record[i]!;
      if ((USER_FIELDS as readonly string[]).includes(name)) fields[name] = cell;
      else {
        const value = inferValue(cell);
        if (value !== undefined) attributes[name] = value;
      }
    });
    if (Object.keys(attributes).length) fields.attributes = attributes;
    return fields;
  },
};

export type Checked = { user: UserInput; extras?: UserExtras } | { error: RowError };

export function check(row: RawRow, config: Config): Checked {
  if (typeof row.fields.__error === 'string') return { error: { line: row.line, reason: row.fields.__error } };
  const { devices, preferences, attributes, ...rest } = row.fields;
  // JSONL keys that are not user fields become attributes, like CSV columns.
  const extraAttrs: Record<string, unknown> = {};
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    if ((USER_FIELDS as readonly string[]).includes(k)) fields[k] = v;
    else extraAttrs[k] = v;
  }
  if (attributes !== undefined || Object.keys(extraAttrs).length) {
    fields.attributes = attributes === undefined ? extraAttrs
      : (attributes && typeof attributes === 'object' && !Array.isArray(attributes) ? { ...extraAttrs, ...attributes } : attributes);
  }
  try {
    const user = normalizeUser(fields, config.defaults);
    const extras = devices !== undefined || preferences !== undefined ? normalizeExtras(user.id, devices, preferences, Object.keys(config.categories)) : undefined;
    return { user, extras };
  } catch (err) {
    if (err instanceof InputError) {
      const reason = err.where ? err.message.replace(/^[^:]*: /, '') : err.message;
      return { error: { line: row.line, field: err.where?.field, reason } };
    }
    throw err;
  }
}

/** What the write pass consumes: validated users and extras, and the rows rejected, per batch. */
export interface CheckedBatch {
  rows: number;
  users: UserInput[];
  extras: UserExtras[];
  errors: RowError[];
}

export async function* checkedBatches(source: Source, format: ImportFormat, config: Config, batchSize: number, part?: Part): AsyncGenerator<CheckedBatch> {
  let batch: CheckedBatch = { rows: 0, users: [], extras: [], errors: [] };
  for await (const row of readRows(source, format, USER_CSV, part)) {
    batch.rows++;
    const checked = check(row, config);
    if ('error' in checked) batch.errors.push(checked.error);
    else {
      batch.users.push(checked.user);
      if (checked.extras) batch.extras.push(checked.extras);
    }
    if (batch.users.length >= batchSize) {
      yield batch;
      batch = { rows: 0, users: [], extras: [], errors: [] };
    }
  }
  if (batch.rows > 0) yield batch;
}
