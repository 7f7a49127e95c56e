/**
 * Talking to a running daemon of this home over its local socket: status for `notify top` and
 * `daemon status`, and a wake-up after new work is committed so it claims at once.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import type { DaemonStatus } from './daemon.js';

export function socketPath(home: string): string {
  return join(home, 'daemon.sock');
}

export function pidPath(home: string): string {
  return join(home, 'daemon.pid');
}

export function logPath(home: string): string {
  return join(home, 'daemon.log');
}

function call(home: string, method: string, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socketPath(home), method, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('the daemon did not answer in time')));
    req.on('error', reject);
    req.end();
  });
}

/** The running daemon's live status, or undefined when none answers. */
export async function readStatus(home: string, timeoutMs = 2000): Promise<DaemonStatus | undefined> {
  try {
    const r = await call(home, 'GET', '/status', timeoutMs);
    return r.status === 200 ? (JSON.parse(r.body) as DaemonStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort: tells a running daemon of this home to claim now. */
export async function wakeDaemon(home: string): Promise<boolean> {
  try {
    return (await call(home, 'POST', '/wake', 500)).status === 204;
  } catch {
    return false;
  }
}
