/**
 * The built-in `log` provider: appends each delivery as one JSON line to `<home>/log/<provider>.jsonl`
 * (like Django's console email backend). It behaves like a real provider to the daemon — lanes,
 * limits, bookkeeping — and can be told to fail by config rules (`channels.<provider>.logFail`).
 *
 * Lines are written in groups: every send waits for the write(2) that carries its line, so a line is
 * in the file (the kernel's page cache) before the delivery is recorded as sent.
 */
import { closeSync, mkdirSync, openSync, write } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { ProviderKey } from '../core/types.js';
import { DeliveryError, type ChannelAdapter, type OutboundMessage, type SendResult } from './types.js';

type FailRule = NonNullable<Config['channels']['sms']['logFail']>[number];

export function logFile(home: string, provider: ProviderKey): string {
  return join(home, 'log', `${provider}.jsonl`);
}

export class LogAdapter implements ChannelAdapter {
  readonly name = 'log';
  private fd: number | undefined;
  private pending: { line: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  private writing = false;

  constructor(private home: string, private provider: ProviderKey, private rules: FailRule[] = []) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    const address = message.to;
    for (const rule of this.rules) {
      if (rule.address !== undefined && !address.includes(rule.address)) continue;
      if (rule.attempts !== undefined && message.attempt > rule.attempts) continue;
      throw new DeliveryError(rule.kind, rule.code, `log provider told to fail (${rule.kind})`, { retryAfterMs: rule.retryAfterMs });
    }
    const providerId = `log-${randomUUID()}`;
    const line = JSON.stringify({
      at: new Date().toISOString(), providerId, deliveryId: message.deliveryId, notificationId: message.notificationId,
      userId: message.userId, attempt: message.attempt, channel: message.channel, provider: this.provider,
      to: message.to, category: message.category, priority: message.priority, content: message.content,
      ...('headers' in message && message.headers ? { headers: message.headers } : {}),
    }) + '\n';
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      if (!this.writing) this.flush();
    });
    return { providerId };
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) {
      this.writing = false;
      return;
    }
    this.pending = [];
    this.writing = true;
    if (this.fd === undefined) {
      const file = logFile(this.home, this.provider);
      mkdirSync(join(this.home, 'log'), { recursive: true, mode: 0o700 });
      this.fd = openSync(file, 'a', 0o600);
    }
    const buf = Buffer.from(batch.map((p) => p.line).join(''));
    const writeAll = (offset: number) => {
      write(this.fd!, buf, offset, buf.length - offset, null, (err, n) => {
        if (err) {
          for (const p of batch) p.reject(new DeliveryError('retryable', err.code ?? 'EIO', `cannot write the log provider's file: ${err.message}`));
        } else if (offset + n < buf.length) {
          return writeAll(offset + n);
        } else {
          for (const p of batch) p.resolve();
        }
        this.flush();
      });
    };
    writeAll(0);
  }

  async close(): Promise<void> {
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
