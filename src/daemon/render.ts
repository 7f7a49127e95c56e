/**
 * Rendering at dispatch: from the stored template version a notification recorded and its data, for
 * each claimed delivery. Definitions are loaded once per (name, version) and compiled once.
 */
import { compileTemplate, renderContext, type CompiledTemplate } from '../core/render.js';
import { PRIORITIES, type RenderedEmail, type User, type WebPushSubscription } from '../core/types.js';
import type { Store } from '../store/index.js';
import type { ClaimedDelivery } from '../store/outbox.js';
import type { NotificationContent } from '../store/notifications.js';
import { DeliveryError, type OutboundMessage } from '../channels/types.js';
import type { Config } from '../config.js';
import { addOpenPixel, rewriteLinks, signToken } from '../core/tracking.js';

export class Renderer {
  private compiled = new Map<string, CompiledTemplate>();
  /** Tracking is on when the daemon has a public URL for links and a key to sign them. */
  private tracking: { base: string; key: string } | undefined;

  constructor(private store: Store, private config?: Config) {
    const base = config?.server.publicUrl?.replace(/\/+$/, '');
    if (base && config?.tracking.key) this.tracking = { base, key: config.tracking.key };
  }

  private key(name: string, version: number): string {
    return `${name}\u0000${version}`;
  }

  /** Loads the template versions these notifications use. */
  async prepare(notifications: NotificationContent[]): Promise<void> {
    for (const n of notifications) {
      const key = this.key(n.template, n.templateVersion);
      if (this.compiled.has(key)) continue;
      const t = await this.store.templates.get(n.template, n.templateVersion);
      if (!t) continue;
      if (this.compiled.size > 1000) this.compiled.clear();
      this.compiled.set(key, compileTemplate(t.def));
    }
  }

  /** The message for one delivery; throws DeliveryError (permanent) when it cannot be rendered. */
  message(row: ClaimedDelivery, n: NotificationContent, user: User, subscription?: WebPushSubscription): OutboundMessage {
    const template = this.compiled.get(this.key(n.template, n.templateVersion));
    if (!template) throw new DeliveryError('permanent', 'TEMPLATE_MISSING', `template ${n.template} v${n.templateVersion} is gone`);
    const base = {
      deliveryId: row.id, notificationId: row.notificationId, userId: row.userId, attempt: row.attempt,
      category: row.category, priority: PRIORITIES[row.priority] ?? 'normal',
    };
    if (!row.address) throw new DeliveryError('invalid-address', 'NO_ADDRESS', 'the delivery has no address');
    let content;
    try {
      content = template.render(row.channel, renderContext(user, n.data), user.locale);
    } catch (err) {
      throw new DeliveryError('permanent', 'RENDER', `cannot render ${n.template} v${n.templateVersion}: ${(err as Error).message}`);
    }
    if (row.channel === 'push') {
      const provider = row.provider as 'apns' | 'fcm' | 'webpush';
      if (provider === 'webpush' && !subscription) throw new DeliveryError('invalid-address', 'NO_SUBSCRIPTION', 'the web push device has no subscription');
      return { ...base, channel: 'push', provider, to: row.address, subscription, content: content as never };
    }
    if (row.channel === 'sms') {
      const statusCallback = this.tracking && this.config?.channels.sms.provider === 'twilio' ? `${this.tracking.base}/hooks/twilio/status?d=${row.id}` : undefined;
      return { ...base, channel: 'sms', provider: 'sms', to: row.address, content: content as never, ...(statusCallback ? { statusCallback } : {}) };
    }
    const email = { ...(content as RenderedEmail) };
    const headers: Record<string, string> = {};
    if (this.tracking) {
      const { base: url, key } = this.tracking;
      const flags = template.def.tracking ?? { opens: true, clicks: true };
      if (email.html && flags.clicks) email.html = rewriteLinks(email.html, (u) => `${url}/t/c/${signToken({ k: 'c', d: row.id, u }, key)}`);
      if (email.html && flags.opens) email.html = addOpenPixel(email.html, `${url}/t/o/${signToken({ k: 'o', d: row.id }, key)}.gif`);
      if (this.config?.categories[row.category]?.transactional === false) {
        // RFC 8058 one-click unsubscribe for marketing mail.
        headers['List-Unsubscribe'] = `<${url}/u/${signToken({ k: 'u', d: row.id }, key)}>`;
        headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
      }
    }
    return { ...base, channel: 'email', provider: 'email', to: row.address, content: email, ...(Object.keys(headers).length ? { headers } : {}) };
  }
}
