/** How segments are shown: the columns of a listing and the record of one. */
import type { Column } from '../../io.js';
import type { Segment } from '../../store/segments.js';

/** A segment with the number of users it matches now. */
export interface CountedSegment extends Segment {
  count: number;
}

export const SEGMENT_COLUMNS: Column<Segment>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'EXPRESSION', value: (s) => s.expression ?? '(every user)' },
  { header: 'DESCRIPTION', value: (s) => s.description },
];

export function segmentRecord(s: CountedSegment): Record<string, unknown> {
  return {
    name: s.name, expression: s.expression ?? '(every user)', description: s.description, users: s.count,
    created: s.createdAt, updated: s.updatedAt,
  };
}
