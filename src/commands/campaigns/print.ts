/** How notifications and campaigns are shown. */
import { PRIORITIES } from '../../core/types.js';
import type { Column } from '../../io.js';
import type { NotificationRow } from '../../store/notifications.js';

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);

export function notificationJson(n: NotificationRow): Record<string, unknown> {
  return {
    id: n.id, eventId: n.eventId, status: n.status, template: n.template, templateVersion: n.templateVersion, category: n.category,
    priority: PRIORITIES[n.priority], audience: n.audience, channels: n.channels, campaign: n.isCampaign, source: n.source, appId: n.appId,
    sendAt: iso(n.sendAt), timing: n.timing, data: n.data, counts: n.counts, createdAt: iso(n.createdAt), updatedAt: iso(n.updatedAt),
  };
}

function sent(n: NotificationRow): number {
  return Object.values(n.counts.deliveries ?? {}).reduce((sum, byStatus) => sum + (byStatus.sent ?? 0), 0);
}

function total(n: NotificationRow): number {
  return Object.values(n.counts.deliveries ?? {}).reduce((sum, byStatus) => sum + Object.entries(byStatus).filter(([s]) => s !== 'skipped').reduce((a, [, c]) => a + c, 0), 0);
}

export const CAMPAIGN_COLUMNS: Column<NotificationRow>[] = [
  { header: 'ID', value: (n) => n.id },
  { header: 'TEMPLATE', value: (n) => `${n.template} v${n.templateVersion}` },
  { header: 'AUDIENCE', value: (n) => ('segment' in n.audience ? `segment ${n.audience.segment}` : `${n.audience.users} users`) },
  { header: 'STATUS', value: (n) => n.status },
  { header: 'SENT', value: (n) => `${sent(n)}/${total(n)}` },
  { header: 'SEND AT', value: (n) => iso(n.sendAt) ?? (n.timing?.localTime ? `${n.timing.localTime} local` : '') },
  { header: 'CREATED', value: (n) => iso(n.createdAt) },
];
