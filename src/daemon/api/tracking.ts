/**
 * Public tracking routes (no app key; each link carries its own signed token):
 *
 *   GET  /t/c/{token}          a click: recorded, then 302 to the link that was in the email
 *   GET  /t/o/{token}.gif      an open: recorded (machine opens flagged), answers a 1x1 GIF
 *   GET  /u/{token}            unsubscribe confirmation page
 *   POST /u/{token}            unsubscribe (RFC 8058 one-click, as List-Unsubscribe-Post promises):
 *                              opts the user out of that category's email, source "unsubscribe"
 *   POST /hooks/twilio/status  Twilio status callbacks, X-Twilio-Signature checked with the auth token:
 *                              delivered -> a "delivered" receipt; undelivered/failed -> "undelivered"
 *
 * A token that does not verify gets a 404 page — never a redirect — and nothing is counted.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../../config.js';
import type { Clock } from '../../core/time.js';
import { isMachineOpen, verifyToken } from '../../core/tracking.js';
import type { Store } from '../../store/index.js';

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}</style>` +
    `</head><body>${body}</body></html>`;
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/html; charset=utf-8').header('cache-control', 'no-store')
    .send(page('Link not found', '<h1>This link is not valid</h1><p>It may have been copied incompletely.</p>'));
}

export interface TrackingContext {
  config: Config;
  store: Store;
  clock: Clock;
}

export function registerTrackingRoutes(app: FastifyInstance, ctx: TrackingContext): void {
  const key = ctx.config.tracking.key;
  const verify = (token: string) => (key ? verifyToken(token, key) : undefined);

  void app.register(async (scope) => {
    // Twilio posts forms and one-click unsubscribes post "List-Unsubscribe=One-Click".
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    scope.get<{ Params: { token: string } }>('/t/c/:token', async (request, reply) => {
      const t = verify(request.params.token);
      if (!t || t.k !== 'c') return notFound(reply);
      const d = await ctx.store.tracking.delivery(t.d);
      if (!d) return notFound(reply);
      await ctx.store.tracking.record(d, { type: 'clicked', at: ctx.clock.now(), detail: t.u, source: 'link' });
      return reply.code(302).header('location', t.u).header('cache-control', 'no-store').send();
    });

    scope.get<{ Params: { token: string } }>('/t/o/:token', async (request, reply) => {
      const raw = request.params.token.replace(/\.gif$/, '');
      const t = verify(raw);
      if (!t || t.k !== 'o') return notFound(reply);
      const d = await ctx.store.tracking.delivery(t.d);
      if (!d) return notFound(reply);
      const at = ctx.clock.now();
      const userAgent = request.headers['user-agent'];
      const machine = isMachineOpen({ at, sentAt: d.sentAt, userAgent }, ctx.config.tracking.machineOpenMs);
      await ctx.store.tracking.record(d, { type: 'opened', at, machine, detail: userAgent?.slice(0, 300), source: 'pixel' });
      return reply.code(200).type('image/gif').header('cache-control', 'no-store, max-age=0').send(GIF);
    });

    scope.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
      const t = verify(request.params.token);
      if (!t || t.k !== 'u') return notFound(reply);
      const d = await ctx.store.tracking.delivery(t.d);
      if (!d) return notFound(reply);
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page('Unsubscribe',
        `<h1>Unsubscribe</h1><p>Stop receiving <b>${d.category}</b> email?</p>` +
        `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`));
    });

    scope.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
      const t = verify(request.params.token);
      if (!t || t.k !== 'u') return notFound(reply);
      const d = await ctx.store.tracking.delivery(t.d);
      if (!d) return notFound(reply);
      await ctx.store.tracking.unsubscribe(d, ctx.clock.now());
      return reply.type('text/html; charset=utf-8').send(page('Unsubscribed', `<h1>You are unsubscribed</h1><p>You will no longer receive ${d.category} email.</p>`));
    });

    scope.post<{ Querystring: { d?: string }; Body: Record<string, string> }>('/hooks/twilio/status', async (request, reply) => {
      const { authToken } = ctx.config.channels.sms;
      const base = ctx.config.server.publicUrl?.replace(/\/+$/, '');
      const signature = request.headers['x-twilio-signature'];
      if (!authToken || !base || typeof signature !== 'string') return reply.code(403).send({ error: { code: 'forbidden', message: 'missing or unverifiable X-Twilio-Signature' } });
      const { default: twilio } = await import('twilio');
      const params = request.body && typeof request.body === 'object' ? request.body : {};
      if (!twilio.validateRequest(authToken, signature, `${base}${request.url}`, params)) {
        return reply.code(403).send({ error: { code: 'forbidden', message: 'X-Twilio-Signature does not match' } });
      }
      const id = Number(request.query.d);
      const d = Number.isInteger(id) ? await ctx.store.tracking.delivery(id) : undefined;
      if (!d) return reply.code(404).send({ error: { code: 'not_found', message: 'no such delivery' } });
      const status = params.MessageStatus ?? params.SmsStatus;
      if (status === 'delivered') await ctx.store.tracking.record(d, { type: 'delivered', at: ctx.clock.now(), detail: params.MessageSid, source: 'twilio' });
      else if (status === 'undelivered' || status === 'failed') {
        await ctx.store.tracking.record(d, { type: 'undelivered', at: ctx.clock.now(), detail: `${status}${params.ErrorCode ? ` ${params.ErrorCode}` : ''}`, source: 'twilio' });
      }
      return reply.code(204).send();
    });
  });
}
