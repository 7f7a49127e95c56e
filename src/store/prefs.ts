import type { Database } from './db.js';
import type { Clock } from '../core/time.js';

export class PreferenceStore {
  constructor(private db: Database, private clock: Clock) {}
}
