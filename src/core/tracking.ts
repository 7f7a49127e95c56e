/**
 * Tracking links, pure: signed tokens that name a delivery (and, for clicks, the link), link rewriting
 * and the open pixel for email HTML, and telling machine opens (mail scanners, privacy proxies) apart.
 *
 * A token is `<payload>.<mac>`: the payload is base64url JSON, the mac the first 16 bytes of
 * HMAC-SHA256 over it with `tracking.key`. Only links that were in the email verify, so the click
 * redirect is no open redirect; a tampered token verifies as nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TrackingToken =
  | { k: 'c'; d: number; u: string }
  | { k: 'o'; d: number }
  | { k: 'u'; d: number };

function mac(body: string, key: string): Buffer {
  return createHmac('sha256', key).update(`notify-tracking:${body}`).digest().subarray(0, 16);
}

export function signToken(token: TrackingToken, key: string): string {
  const body = Buffer.from(JSON.stringify(token)).toString('base64url');
  return `${body}.${mac(body, key).toString('base64url')}`;
}

export function verifyToken(text: string, key: string): TrackingToken | undefined {
  const dot = text.indexOf('.');
  if (dot <= 0 || text.length > 4096) return undefined;
  const body = text.slice(0, dot);
  const given = Buffer.from(text.slice(dot + 1), 'base64url');
  const expected = mac(body, key);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const t = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TrackingToken;
    if (!Number.isInteger(t.d) || !['c', 'o', 'u'].includes(t.k)) return undefined;
    if (t.k === 'c' && !/^https?:\/\//i.test(t.u)) return undefined;
    return t;
  } catch {
    return undefined;
  }
}

const HREF = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;

function decodeEntities(url: string): string {
  return url.replace(/&amp;/g, '&').replace(/&#38;/g, '&').replace(/&quot;/g, '"');
}

/** Rewrites every http(s) link of `<a href>` in the HTML through `wrap` (given the link's real URL). */
export function rewriteLinks(html: string, wrap: (url: string) => string): string {
  return html.replace(HREF, (_m, head: string, quote: string, url: string) => `${head}${quote}${wrap(decodeEntities(url))}${quote}`);
}

/** Adds a 1×1 open pixel just before </body>, or at the end. */
export function addOpenPixel(html: string, src: string): string {
  const img = `<img src="${src}" width="1" height="1" alt="" style="display:none">`;
  const i = html.search(/<\/body\s*>/i);
  return i === -1 ? html + img : html.slice(0, i) + img + html.slice(i);
}

/** User agents of mail scanners, link checkers and privacy proxies that fetch without a person. */
const MACHINE_AGENTS = /GoogleImageProxy|YahooMailProxy|Barracuda|Mimecast|Proofpoint|Symantec|Forcepoint|Trend ?Micro|SafeLinks|bot\b|crawler|spider|preview|HeadlessChrome|python-requests|curl\//i;

/**
 * A machine open: a known proxy or scanner user agent, Apple's privacy proxy (a bare "Mozilla/5.0"),
 * or a fetch within `thresholdMs` of delivery, faster than a person opens mail.
 */
export function isMachineOpen(event: { at: number; sentAt: number | null; userAgent?: string }, thresholdMs: number): boolean {
  const ua = (event.userAgent ?? '').trim();
  if (ua === '' || ua === 'Mozilla/5.0' || MACHINE_AGENTS.test(ua)) return true;
  return event.sentAt !== null && event.at - event.sentAt < thresholdMs;
}
