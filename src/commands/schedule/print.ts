import type { Column } from '../../io.js';
import type { Schedule } from '../../store/schedules.js';

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);

export function scheduleJson(s: Schedule): Record<string, unknown> {
  return {
    name: s.name, cron: s.cron, timezone: s.timezone, template: s.template, segment: s.segment, channels: s.channels, data: s.data,
    priority: s.priority, catchUp: s.catchUp, paused: s.paused, nextRunAt: iso(s.nextRunAt), lastRunAt: iso(s.lastRunAt), createdAt: iso(s.createdAt),
  };
}

export const SCHEDULE_COLUMNS: Column<Schedule>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'CRON', value: (s) => s.cron },
  { header: 'TIMEZONE', value: (s) => s.timezone },
  { header: 'TEMPLATE', value: (s) => s.template },
  { header: 'SEGMENT', value: (s) => s.segment },
  { header: 'STATE', value: (s) => (s.paused ? 'paused' : 'active') },
  { header: 'NEXT RUN', value: (s) => (s.paused ? '' : iso(s.nextRunAt)) },
  { header: 'LAST RUN', value: (s) => iso(s.lastRunAt) },
];
