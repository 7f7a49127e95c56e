/** The live queue view's text: per lane, per running campaign, and the last errors. Pure. */
import type { DaemonStatus } from '../../daemon/daemon.js';

function n(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function age(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function formatStatus(s: DaemonStatus, width = 100): string {
  const lines: string[] = [];
  lines.push(`notify daemon  pid ${s.pid}  ${s.state}  up ${age(s.uptimeMs)}  owner ${s.owner}`);
  lines.push('');
  const head = ['LANE', 'PROVIDER', 'QUEUED', 'IN FLIGHT', 'SENT/S', 'FAILED/S', 'RETRYING', 'DEAD', 'RATE LIMIT', 'OLDEST DUE'];
  const rows = s.lanes.map((l) => [
    l.provider, l.adapter, n(l.due + l.queued), n(l.inFlight), l.sentPerSec.toFixed(1), l.failedPerSec.toFixed(1),
    n(l.retrying), n(l.dead), l.rateLimit ? `${n(l.rateLimit)}/s` : '-', age(l.oldestDueAgeMs),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  lines.push(pad(head, widths));
  for (const r of rows) lines.push(pad(r, widths));
  lines.push('');
  if (s.campaigns.length === 0) lines.push('No campaign running.');
  for (const c of s.campaigns) {
    const frac = c.total ? c.done / c.total : 1;
    const barWidth = Math.max(10, Math.min(40, width - 60));
    const filled = Math.round(frac * barWidth);
    const eta = c.etaSeconds === null ? '' : `  eta ${age(c.etaSeconds * 1000)}`;
    lines.push(`${c.id} ${c.template.padEnd(12)} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${(frac * 100).toFixed(1)}%  ${n(c.done)}/${n(c.total)}  dead ${n(c.dead)}${eta}`);
  }
  if (s.lastErrors.length) {
    lines.push('');
    lines.push('Last errors:');
    for (const e of s.lastErrors.slice(0, 5)) {
      lines.push(`  ${new Date(e.at).toISOString().slice(11, 19)} ${e.provider} #${e.deliveryId} ${e.error}`.slice(0, width));
    }
  }
  return lines.join('\n') + '\n';
}
