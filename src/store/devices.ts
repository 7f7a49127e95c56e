import type { Database } from './db.js';
import type { Clock } from '../core/time.js';

export class DeviceStore {
  constructor(private db: Database, private clock: Clock) {}
}
