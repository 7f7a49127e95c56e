/** How devices are shown: the columns of a listing and the record of one. */
import type { Device } from '../../core/types.js';
import type { Column } from '../../io.js';

/** Long tokens and endpoints cut to their start and end for tables; piped and JSON output keep them whole. */
export function shortToken(token: string, width = 24): string {
  return token.length <= width ? token : `${token.slice(0, width - 9)}…${token.slice(-8)}`;
}

export function deviceColumns(options: { inactive?: boolean; tty: boolean }): Column<Device>[] {
  const columns: Column<Device>[] = [
    { header: 'ID', value: (d) => d.id },
    { header: 'USER', value: (d) => d.userId },
    { header: 'PLATFORM', value: (d) => d.platform },
    { header: 'TOKEN', value: (d) => (options.tty ? shortToken(d.token) : d.token) },
    { header: 'CREATED', value: (d) => d.createdAt },
  ];
  if (options.inactive) {
    columns.push(
      { header: 'ACTIVE', value: (d) => (d.active ? 'yes' : 'no') },
      { header: 'DEACTIVATED', value: (d) => d.deactivatedAt },
      { header: 'REASON', value: (d) => d.deactivatedReason },
    );
  }
  return columns;
}

export function deviceRecord(d: Device): Record<string, unknown> {
  const record: Record<string, unknown> = {
    id: d.id, user: d.userId, platform: d.platform, token: d.token, active: d.active ? 'yes' : 'no',
  };
  if (!d.active) {
    record.deactivated = d.deactivatedAt;
    record.reason = d.deactivatedReason;
  }
  record.created = d.createdAt;
  record.updated = d.updatedAt;
  return record;
}
