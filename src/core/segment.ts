import type { SqlFilter } from '../store/users.js';

export function compileSegment(expr: string): SqlFilter {
  return { sql: expr, params: [] };
}
