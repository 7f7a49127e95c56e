import type { Database } from './db.js';
import type { Clock } from '../core/time.js';

export class SegmentStore {
  constructor(private db: Database, private clock: Clock) {}
}
