/**
 * Segment expressions: a small filter language over users, compiled to a parameterised SQL condition.
 *
 *   country = 'KR' and plan in ('pro', 'team') and age >= 18 and has email and tags contains 'beta'
 *
 * Grammar (keywords are case-insensitive; field names are not):
 *
 *   expr       := and ('or' and)*
 *   and        := unary ('and' unary)*
 *   unary      := 'not' unary | primary
 *   primary    := '(' expr ')' | 'has' 'push' | 'has' field | field predicate
 *   predicate  := ('=' | '!=' | '<>' | '<' | '<=' | '>' | '>=') value
 *               | ['not'] 'in' '(' value (',' value)* ')'
 *               | ['not'] 'contains' value
 *               | 'is' ['not'] 'null'
 *   value      := 'string' | "string" | number | true | false | null     ('' and "" escape a quote)
 *   field      := identifier ('.' identifier)*                             (letters, digits, _)
 *
 * Fields id, name, email, phone, locale, timezone, created_at and updated_at are the users table's columns;
 * every other field is a key of the user's JSON attributes (`address.city` is a nested key).
 *
 * Every predicate is two-valued: a user whose field is missing does not match `country = 'KR'` and does
 * match `country != 'KR'` and `not (country = 'KR')`. SQL's NULL only reaches `and`/`or`, where it acts
 * as false; `not` turns NULL into false before negating.
 *
 * Values and JSON paths are always bound parameters. The only text that goes into the SQL is this
 * module's own: column names from a fixed table, operators from a fixed table, and placeholders.
 *
 * Pure: no I/O.
 */
import { InputError } from '../errors.js';
import type { SqlFilter } from '../store/users.js';

/** The users table's columns a segment may name directly. */
const COLUMNS: Record<string, string> = {
  id: 'u.id',
  name: 'u.name',
  email: 'u.email',
  phone: 'u.phone',
  locale: 'u.locale',
  timezone: 'u.timezone',
  created_at: 'u.created_at',
  updated_at: 'u.updated_at',
};

/** Columns holding epoch milliseconds: a date string compared with them is read as a time. */
const TIME_COLUMNS = new Set(['created_at', 'updated_at']);

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'contains', 'has', 'is', 'null', 'true', 'false']);

/** Nesting deeper than this is refused rather than risking the stack or SQLite's expression depth limit. */
const MAX_DEPTH = 64;
/** SQLite refuses expression trees deeper than 1000; a long and/or chain is that deep. */
const MAX_CONDITIONS = 500;
/** Well under SQLite's 32766 parameters, leaving room for the JSON paths. */
const MAX_LIST_VALUES = 10_000;

/** Each part of a field name; also re-checked just before a JSON path is built. */
const FIELD_PART = /^[A-Za-z0-9_]+$/;

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type Literal = string | number | boolean | null;

/** A field: a column of the users table, or a path into the JSON attributes. */
export type Field =
  | { kind: 'column'; name: string }
  | { kind: 'attribute'; name: string; path: string[] };

export type SegmentNode =
  | { type: 'or'; items: SegmentNode[] }
  | { type: 'and'; items: SegmentNode[] }
  | { type: 'not'; operand: SegmentNode }
  | { type: 'compare'; field: Field; op: CompareOp; value: Literal }
  | { type: 'in'; field: Field; values: Literal[]; negated: boolean }
  | { type: 'contains'; field: Field; value: string | number | boolean; negated: boolean }
  | { type: 'isNull'; field: Field; negated: boolean }
  | { type: 'has'; field: Field }
  | { type: 'hasPush' };

/** A syntax or meaning error in a segment expression, at a 1-based column. */
export class SegmentSyntaxError extends InputError {
  constructor(readonly column: number, readonly reason: string) {
    super(`segment expression: column ${column}: ${reason}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Tokenizer

type Token =
  | { kind: 'word'; text: string; col: number }
  | { kind: 'string'; value: string; col: number }
  | { kind: 'number'; value: number; text: string; col: number }
  | { kind: 'op'; text: string; col: number }
  | { kind: 'punct'; text: '(' | ')' | ','; col: number }
  | { kind: 'end'; col: number };

const OPERATORS = ['<=', '>=', '!=', '<>', '=', '<', '>'];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    const col = i + 1;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: 'punct', text: ch, col });
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new SegmentSyntaxError(col, `unterminated string: add the closing ${ch}`);
        if (src[j] === ch) {
          if (src[j + 1] === ch) {
            value += ch;
            j += 2;
            continue;
          }
          break;
        }
        value += src[j];
        j++;
      }
      tokens.push({ kind: 'string', value, col });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && (ch !== '-' || /\d/.test(src[i + 1] ?? ''))) {
      const end = i + num[0].length;
      if (end < src.length && /[A-Za-z0-9_.]/.test(src[end]!)) {
        const bad = /^[-A-Za-z0-9_.]+/.exec(src.slice(i))![0];
        throw new SegmentSyntaxError(col, `"${bad}" is not a number (field names start with a letter or _)`);
      }
      const value = Number(num[0]);
      if (!Number.isFinite(value)) throw new SegmentSyntaxError(col, `${num[0]} is too large a number`);
      tokens.push({ kind: 'number', value, text: num[0], col });
      i = end;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z0-9_.]+/.exec(src.slice(i))![0];
      const parts = word.split('.');
      if (parts.some((p) => p === '')) {
        throw new SegmentSyntaxError(col, `"${word}" is not a field name (nested keys are written a.b, with no empty parts)`);
      }
      tokens.push({ kind: 'word', text: word, col });
      i += word.length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, col });
      i += op.length;
      continue;
    }
    throw new SegmentSyntaxError(col, `unexpected character "${ch}"`);
  }
  tokens.push({ kind: 'end', col: src.length + 1 });
  return tokens;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'end': return 'end of input';
    case 'string': return `the string '${t.value.replace(/'/g, "''")}'`;
    case 'number': return `the number ${t.text}`;
    case 'word': return `"${t.text}"`;
    default: return `"${t.text}"`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Parser

class Parser {
  private pos = 0;
  private depth = 0;
  private conditions = 0;
  private listValues = 0;
  constructor(private tokens: Token[]) {}

  parse(): SegmentNode {
    if (this.peek().kind === 'end') throw this.error(this.peek(), 'expected a condition such as country = \'KR\'');
    const node = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') {
      const hint = this.isPunct(next, ')') ? 'a ")" without its "("' : describe(next);
      throw new SegmentSyntaxError(next.col, `expected "and", "or" or end of input, found ${hint}`);
    }
    return node;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  private isKeyword(t: Token, word: string): boolean {
    return t.kind === 'word' && t.text.toLowerCase() === word;
  }

  private isPunct(t: Token, ch: '(' | ')' | ','): boolean {
    return t.kind === 'punct' && t.text === ch;
  }

  private error(found: Token, expected: string): SegmentSyntaxError {
    return new SegmentSyntaxError(found.col, `${expected}, found ${describe(found)}`);
  }

  private parseOr(): SegmentNode {
    const items = [this.parseAnd()];
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      items.push(this.parseOperand('or'));
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  }

  private parseAnd(): SegmentNode {
    const items = [this.parseUnary()];
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      items.push(this.parseOperand('and', true));
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  }

  /** The right side of `and` / `or`: says which keyword is missing its condition. */
  private parseOperand(keyword: 'and' | 'or', unary = false): SegmentNode {
    if (this.peek().kind === 'end') throw this.error(this.peek(), `expected a condition after "${keyword}"`);
    return unary ? this.parseUnary() : this.parseAnd();
  }

  private parseUnary(): SegmentNode {
    const t = this.peek();
    if (this.isKeyword(t, 'not')) {
      this.next();
      if (this.peek().kind === 'end') throw this.error(this.peek(), 'expected a condition after "not"');
      return this.nested(t, () => ({ type: 'not', operand: this.parseUnary() }));
    }
    return this.parsePrimary();
  }

  private nested<T>(at: Token, fn: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new SegmentSyntaxError(at.col, `nested more than ${MAX_DEPTH} levels deep: simplify the expression`);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private parsePrimary(): SegmentNode {
    const t = this.peek();
    if (!this.isPunct(t, '(') && ++this.conditions > MAX_CONDITIONS) {
      throw new SegmentSyntaxError(t.col, `more than ${MAX_CONDITIONS} conditions: put lists of values in "in (...)" instead`);
    }
    if (this.isPunct(t, '(')) {
      this.next();
      return this.nested(t, () => {
        if (this.peek().kind === 'end' || this.isPunct(this.peek(), ')')) {
          throw this.error(this.peek(), 'expected a condition after "("');
        }
        const inner = this.parseOr();
        const close = this.peek();
        if (!this.isPunct(close, ')')) throw this.error(close, `expected ")" to close the "(" at column ${t.col}`);
        this.next();
        return inner;
      });
    }
    if (this.isKeyword(t, 'has')) {
      this.next();
      const f = this.peek();
      if (f.kind === 'word' && f.text.toLowerCase() === 'push') {
        this.next();
        return { type: 'hasPush' };
      }
      return { type: 'has', field: this.parseField('after "has"') };
    }
    const field = this.parseField('');
    return this.parsePredicate(field);
  }

  private parseField(after: string): Field {
    const t = this.peek();
    const where = after ? ` ${after}` : '';
    if (t.kind !== 'word') throw this.error(t, `expected a field name${where}`);
    if (KEYWORDS.has(t.text.toLowerCase())) throw this.error(t, `expected a field name${where}`);
    this.next();
    return toField(t.text);
  }

  private parsePredicate(field: Field): SegmentNode {
    const t = this.next();
    if (t.kind === 'op') {
      const op = (t.text === '<>' ? '!=' : t.text) as CompareOp;
      const value = this.parseValue(`after "${t.text}"`);
      return { type: 'compare', field, op, value: this.checkCompare(field, op, value) };
    }
    if (this.isKeyword(t, 'in')) return this.parseIn(field, false);
    if (this.isKeyword(t, 'contains')) return this.parseContains(field, false);
    if (this.isKeyword(t, 'not')) {
      const u = this.next();
      if (this.isKeyword(u, 'in')) return this.parseIn(field, true);
      if (this.isKeyword(u, 'contains')) return this.parseContains(field, true);
      throw this.error(u, 'expected "in" or "contains" after "not"');
    }
    if (this.isKeyword(t, 'is')) {
      let negated = false;
      let u = this.next();
      if (this.isKeyword(u, 'not')) {
        negated = true;
        u = this.next();
      }
      if (!this.isKeyword(u, 'null')) throw this.error(u, `expected "null" after "${negated ? 'is not' : 'is'}"`);
      return { type: 'isNull', field, negated };
    }
    throw this.error(t, `expected an operator after "${field.name}" (=, !=, <, <=, >, >=, in, not in, contains, is null)`);
  }

  private parseIn(field: Field, negated: boolean): SegmentNode {
    const open = this.next();
    if (!this.isPunct(open, '(')) throw this.error(open, `expected "(" after "${negated ? 'not in' : 'in'}"`);
    const values: Literal[] = [];
    for (;;) {
      const at = this.peek();
      const value = this.parseValue(values.length === 0 ? 'in the list' : 'after ","');
      if (value === null) throw new SegmentSyntaxError(at.col, 'null cannot be in a list: use "FIELD is null or FIELD in (...)"');
      if (++this.listValues > MAX_LIST_VALUES) throw new SegmentSyntaxError(at.col, `more than ${MAX_LIST_VALUES} values in lists: split the audience into several segments`);
      values.push(field.kind === 'column' ? columnValue(field, value, at) : value);
      const sep = this.next();
      if (this.isPunct(sep, ')')) break;
      if (!this.isPunct(sep, ',')) throw this.error(sep, `expected "," or ")" in the list opened at column ${open.col}`);
    }
    return { type: 'in', field, values, negated };
  }

  private parseContains(field: Field, negated: boolean): SegmentNode {
    const at = this.peek();
    const value = this.parseValue(`after "${negated ? 'not contains' : 'contains'}"`);
    if (value === null) throw new SegmentSyntaxError(at.col, '"contains null" matches nothing: use "is null"');
    return { type: 'contains', field, value, negated };
  }

  private parseValue(after: string): Literal {
    const t = this.peek();
    if (t.kind === 'string' || t.kind === 'number') {
      this.next();
      return t.value;
    }
    if (t.kind === 'word') {
      const w = t.text.toLowerCase();
      if (w === 'true' || w === 'false' || w === 'null') {
        this.next();
        return w === 'null' ? null : w === 'true';
      }
    }
    const hint = t.kind === 'word' && !KEYWORDS.has(t.text.toLowerCase()) ? ` (quote text: '${t.text}')` : '';
    throw new SegmentSyntaxError(t.col, `expected a value ${after}${hint}, found ${describe(t)}`);
  }

  /** Checks a comparison's value against its operator and field; returns the value to bind. */
  private checkCompare(field: Field, op: CompareOp, value: Literal): Literal {
    const at = this.tokens[this.pos - 1]!;
    const ordering = op !== '=' && op !== '!=';
    if (ordering && value === null) throw new SegmentSyntaxError(at.col, `null cannot be compared with "${op}": use "is null" or "is not null"`);
    if (ordering && typeof value === 'boolean') throw new SegmentSyntaxError(at.col, `${value} cannot be compared with "${op}": use = or !=`);
    return field.kind === 'column' ? columnValue(field, value, at) : value;
  }
}

function toField(text: string): Field {
  if (Object.hasOwn(COLUMNS, text)) return { kind: 'column', name: text };
  return { kind: 'attribute', name: text, path: text.split('.') };
}

/** A date string compared with created_at / updated_at is read as a time, since those hold epoch ms. */
function columnValue(field: Field, value: Literal, at: Token): Literal {
  if (!TIME_COLUMNS.has(field.name) || typeof value !== 'string') return value;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new SegmentSyntaxError(at.col, `${field.name} is a time: compare it with a date such as '2026-01-31' or '2026-01-31T09:00:00Z', not '${value}'`);
  return ms;
}

/** Parses an expression into its syntax tree; throws SegmentSyntaxError (an InputError) naming the column. */
export function parseSegment(expr: string): SegmentNode {
  return new Parser(tokenize(expr)).parse();
}

// ---------------------------------------------------------------------------------------------------
// SQL

class Emitter {
  readonly params: unknown[] = [];

  /** A placeholder for `value`, which is bound, never spliced. */
  bind(value: unknown): string {
    this.params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    return '?';
  }

  /** The SQL for a field's value: a fixed column name, or json_extract with the path as a parameter. */
  field(f: Field): string {
    if (f.kind === 'column') return COLUMNS[f.name]!;
    return `json_extract(u.attributes, ${this.bind(jsonPath(f))})`;
  }

  node(n: SegmentNode): string {
    switch (n.type) {
      case 'or': return `(${n.items.map((i) => this.node(i)).join(' OR ')})`;
      case 'and': return `(${n.items.map((i) => this.node(i)).join(' AND ')})`;
      // NULL (a missing field) must count as false before it is negated, so `not` is a true complement.
      case 'not': return `NOT coalesce(${this.node(n.operand)}, 0)`;
      case 'compare': return this.compare(n.field, n.op, n.value);
      case 'in': {
        const sql = `${this.field(n.field)} IN (${n.values.map((v) => this.bind(v)).join(', ')})`;
        return n.negated ? `NOT coalesce(${sql}, 0)` : sql;
      }
      case 'contains': {
        const sql = this.contains(n.field, n.value);
        return n.negated ? `NOT coalesce(${sql}, 0)` : sql;
      }
      case 'isNull': return `${this.field(n.field)} IS ${n.negated ? 'NOT ' : ''}NULL`;
      case 'has': return this.has(n.field);
      case 'hasPush': return 'EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.active = 1)';
    }
  }

  private compare(f: Field, op: CompareOp, value: Literal): string {
    if (value === null) return `${this.field(f)} IS ${op === '!=' ? 'NOT ' : ''}NULL`;
    // IS NOT rather than != so that a user without the field is "not equal".
    if (op === '!=') return `${this.field(f)} IS NOT ${this.bind(value)}`;
    if (op === '=') return `${this.field(f)} = ${this.bind(value)}`;
    if (f.kind === 'column') return `${this.field(f)} ${op} ${this.bind(value)}`;
    // SQLite orders every number before every text; compare an attribute only with values of its own kind,
    // so `age >= 18` does not match age "unknown".
    const kinds = typeof value === 'number' ? "('integer', 'real')" : "('text')";
    return `(json_type(u.attributes, ${this.bind(jsonPath(f))}) IN ${kinds} AND ${this.field(f)} ${op} ${this.bind(value)})`;
  }

  private contains(f: Field, value: string | number | boolean): string {
    if (f.kind === 'column') return `instr(${this.field(f)}, ${this.bind(String(value))}) > 0`;
    // An array contains an element equal to the value; a text value contains it as a substring.
    const path = jsonPath(f);
    return `CASE json_type(u.attributes, ${this.bind(path)})`
      + ` WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(u.attributes, ${this.bind(path)}) e WHERE e.value = ${this.bind(value)})`
      + ` WHEN 'text' THEN instr(json_extract(u.attributes, ${this.bind(path)}), ${this.bind(String(value))}) > 0`
      + ' ELSE 0 END';
  }

  private has(f: Field): string {
    if (f.kind === 'column') return `coalesce(${this.field(f)}, '') != ''`;
    // `->` gives the value as JSON text, so null, "", [] and {} are told apart from the strings "[]" and "{}".
    return `coalesce(u.attributes -> ${this.bind(jsonPath(f))} NOT IN ('null', '""', '[]', '{}'), 0)`;
  }
}

/** `$.a.b` from a field's parts, each re-checked so nothing but letters, digits and _ reaches the path. */
function jsonPath(f: Field & { kind: 'attribute' }): string {
  for (const part of f.path) {
    if (!FIELD_PART.test(part)) throw new InputError(`segment expression: "${f.name}" is not a field name`);
  }
  return '$.' + f.path.join('.');
}

/** Compiles a syntax tree to a condition over the users table aliased `u`. */
export function compileNode(node: SegmentNode): SqlFilter {
  const emitter = new Emitter();
  const sql = emitter.node(node);
  return { sql, params: emitter.params };
}

/**
 * Compiles a segment expression to a boolean SQL condition over `users u` with `?` parameters.
 * Throws InputError (`segment expression: column N: ...`) when the expression is not valid.
 */
export function compileSegment(expr: string): SqlFilter {
  return compileNode(parseSegment(expr));
}
