import type { Database } from './db.js';
import type { Clock } from '../core/time.js';

export class OutboxStore {
  constructor(private db: Database, private clock: Clock) {}
}
