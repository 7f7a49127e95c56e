/**
 * What each emulator's record says was rendered: the provider payload read back into our RenderedPush /
 * RenderedSms / RenderedEmail shape plus the ids the push payload carries, so tests can compare what
 * arrived with what the renderer (or `notify templates preview`) produced.
 */
import type { RenderedEmail, RenderedPush, RenderedSms } from '../../src/core/types.js';
import type { ApnsReceived } from './apns.js';
import type { FcmReceived } from './fcm.js';
import type { ReceivedEmail } from './smtp.js';
import type { ReceivedSms } from './twilio.js';
import type { ReceivedPush } from './webpush.js';

export interface PushArrived {
  content: RenderedPush;
  /** Notification id and delivery id from the payload. */
  nid: string;
  did: number;
}

/** APNs: `aps.alert` title/body, sound, badge; custom keys are data; `url` and `notify` are top-level keys. */
export function fromApns(r: ApnsReceived): PushArrived {
  const { aps, notify, url, ...data } = r.payload as {
    aps: { alert: { title: string; body: string }; sound?: string; badge?: number };
    notify: { nid: string; did: number };
    url?: string;
  } & Record<string, string>;
  const content: RenderedPush = { title: aps.alert.title, body: aps.alert.body, data };
  if (url !== undefined) content.url = url;
  if (aps.sound !== undefined) content.sound = aps.sound;
  if (aps.badge !== undefined) content.badge = aps.badge;
  if (r.headers['apns-collapse-id'] !== undefined) content.collapseKey = r.headers['apns-collapse-id'];
  return { content, nid: notify.nid, did: notify.did };
}

/** FCM v1: notification title/body, data (minus url and notify_*), android sound / notification_count / collapse_key. */
export function fromFcm(r: FcmReceived): PushArrived {
  const m = r.message;
  const { url, notify_nid: nid, notify_did: did, ...data } = (m.data ?? {}) as Record<string, string>;
  const content: RenderedPush = { title: m.notification?.title ?? '', body: m.notification?.body ?? '', data };
  if (url !== undefined) content.url = url;
  const n = m.android?.notification ?? {};
  if (n.sound !== undefined) content.sound = n.sound;
  if (n.notification_count !== undefined) content.badge = n.notification_count;
  if (m.android?.collapse_key !== undefined) content.collapseKey = m.android.collapse_key;
  return { content, nid: nid!, did: Number(did) };
}

/**
 * Web push: the decrypted JSON `{ title, body, url, data, nid, did }`. Sound and badge have no place in a
 * web push (the service worker decides); the collapse key travels as the Topic header, digested when it
 * is not a valid topic, so it is returned separately.
 */
export function fromWebPush(r: ReceivedPush): PushArrived & { topic?: string } {
  const p = r.payload as { title: string; body: string; url?: string; data: Record<string, string>; nid: string; did: number };
  const content: RenderedPush = { title: p.title, body: p.body, data: p.data };
  if (p.url !== undefined) content.url = p.url;
  return { content, nid: p.nid, did: p.did, topic: r.topic };
}

export function fromTwilio(r: ReceivedSms): RenderedSms {
  return { body: r.body };
}

/** Trailing white space of the text part is not compared: MIME encoding may add a final line break. */
export function fromSmtp(r: ReceivedEmail): RenderedEmail {
  const out: RenderedEmail = { subject: r.subject, text: r.text.trimEnd() };
  if (r.html !== undefined) out.html = r.html;
  return out;
}

/** The web push part of a RenderedPush (what a web push can carry). */
export function webPushPart(c: RenderedPush): RenderedPush {
  const out: RenderedPush = { title: c.title, body: c.body, data: c.data };
  if (c.url !== undefined) out.url = c.url;
  return out;
}
