/**
 * Notifications over the API (scope `send`).
 *
 * POST /v1/notifications
 *   { "event_id": "order-42-shipped",           required: the idempotency key (1-200 chars, global)
 *     "template": "shipped",                    required
 *     "user_id": "u1" | "user_ids": ["u1", ...] | "segment": "korea",   exactly one
 *     "channels": ["push", "email"],            default: every channel the template has
 *     "data": { ... },                          template data
 *     "priority": "high" | "normal" | "low",    default: high for transactional categories, low for marketing
 *     "send_at": "2026-01-01T09:00:00Z" }       ISO 8601; in the future makes a scheduled notification
 *   -> 202 { id, status, deduplicated: false } and the daemon is woken at once;
 *   -> 200 { id, status, deduplicated: true } when the event id was used before: the first notification,
 *      nothing new queued (also under concurrent posts).
 *   Errors: 400 `invalid` (schema, with the field); 422 `unknown_reference` when the template, a user or
 *   the segment named in the body does not exist (field `template`, `user_id`/`user_ids`, `segment`).
 *   The notification is attributed to the calling app (`app_id`, source `api`).
 *
 * GET /v1/notifications/{id}[?limit=100]
 *   -> 200 the notification, its delivery counts by channel and status, its newest `limit` deliveries
 *      (1-1000, default 100) each with its history, and engagement events. 404 when there is none.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import type { Clock } from '../../core/time.js';
import { CHANNELS, PRIORITIES, type Channel, type Priority } from '../../core/types.js';
import { InputError, NotFoundError } from '../../errors.js';
import type { Store } from '../../store/index.js';
import { FANOUT_BATCH, type NotificationRow } from '../../store/notifications.js';
import { submit, type SubmitRequest, type SubmitResult } from '../../submit.js';
import type { DaemonLink } from './link.js';
import { ApiError, fromInputError, unknownReference } from './errors.js';

export interface RouteContext {
  config: Config;
  store: Store;
  clock: Clock;
  daemon: Pick<DaemonLink, 'wake'>;
}

const id = { type: 'string', minLength: 1, maxLength: 200 } as const;

const postBody = {
  type: 'object',
  additionalProperties: false,
  required: ['event_id', 'template'],
  properties: {
    event_id: id,
    template: id,
    user_id: id,
    user_ids: { type: 'array', items: id, minItems: 1, maxItems: 10_000 },
    segment: id,
    channels: { type: 'array', items: { type: 'string', enum: [...CHANNELS] }, minItems: 1, uniqueItems: true },
    data: { type: 'object' },
    priority: { type: 'string', enum: [...PRIORITIES] },
    send_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** The answer's shape: fastify serializes it with a compiled serializer, not JSON.stringify. */
const postReply = {
  type: 'object',
  required: ['id', 'status', 'deduplicated'],
  properties: { id: { type: 'string' }, status: { type: 'string' }, deduplicated: { type: 'boolean' }, send_at: { type: 'string' } },
} as const;

interface PostBody {
  event_id: string;
  template: string;
  user_id?: string;
  user_ids?: string[];
  segment?: string;
  channels?: Channel[];
  data?: Record<string, unknown>;
  priority?: Priority;
  send_at?: string;
}

const TARGETS = ['user_id', 'user_ids', 'segment'] as const;

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** Which body field a NotFoundError from submit() is about. */
function referenceField(err: NotFoundError, body: PostBody): string {
  if (/^(no )?template\b/.test(err.message)) return 'template';
  if (err.message.startsWith('no segment')) return 'segment';
  return body.user_id !== undefined ? 'user_id' : 'user_ids';
}

export function registerNotificationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // Loaded now, not inside a group commit: a first import reads files, and a group must not wait on I/O.
  app.addHook('onReady', async () => void (await import('../../core/schedule.js')));
  app.post<{ Body: PostBody }>('/notifications', { schema: { body: postBody, response: { 200: postReply, 202: postReply } }, config: { scope: 'send' } }, async (request, reply) => {
    const body = request.body;
    const given = TARGETS.filter((k) => body[k] !== undefined);
    if (given.length !== 1) {
      throw new ApiError(400, 'invalid', given.length === 0
        ? 'give the audience: one of user_id, user_ids or segment'
        : `give only one of user_id, user_ids or segment (got ${given.join(' and ')})`, given[1] ?? 'user_id');
    }
    const req: SubmitRequest = {
      template: body.template,
      eventId: body.event_id,
      source: 'api',
      appId: request.apiApp!.id,
      ...(body.segment !== undefined ? { segment: body.segment } : { users: body.user_ids ?? [body.user_id!] }),
      ...(body.channels ? { channels: body.channels } : {}),
      ...(body.data ? { data: body.data } : {}),
      ...(body.priority ? { priority: body.priority } : {}),
      ...(body.send_at !== undefined ? { sendAt: Date.parse(body.send_at) } : {}),
    };
    let result: SubmitResult;
    try {
      // Small sends arriving together commit together (one transaction for many requests). A send to
      // a segment or to more users than one fan-out batch runs alone: it yields between batches.
      const small = req.users !== undefined && req.users.length <= FANOUT_BATCH;
      result = small ? await ctx.store.group.run(() => submit(req, ctx.store, ctx.config, ctx.clock)) : await submit(req, ctx.store, ctx.config, ctx.clock);
    } catch (err) {
      if (err instanceof NotFoundError) throw unknownReference(err, referenceField(err, body));
      if (err instanceof InputError) throw fromInputError(err);
      throw err;
    }
    const n = result.notification;
    if (!result.deduplicated) ctx.daemon.wake(n.channels);
    return reply.code(result.deduplicated ? 200 : 202).send({
      id: n.id, status: n.status, deduplicated: result.deduplicated, ...(n.sendAt !== null ? { send_at: iso(n.sendAt) } : {}),
    });
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>('/notifications/:id', {
    schema: {
      params: { type: 'object', properties: { id } },
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[0-9]{1,4}$' } } },
    },
    config: { scope: 'send' },
  }, async (request) => {
    const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
    if (limit < 1 || limit > 1000) throw new ApiError(400, 'invalid', 'limit: must be 1 to 1000', 'limit');
    const n = await ctx.store.notifications.get(request.params.id);
    if (!n) throw new ApiError(404, 'not_found', `no notification "${request.params.id}": use the id POST /v1/notifications returned`);
    return describe(n, ctx.store, limit);
  });
}

async function describe(n: NotificationRow, store: Store, limit: number) {
  const deliveries = (await store.outbox.list({ notificationId: n.id, limit })).reverse();
  const events = await store.outbox.events(deliveries.map((d) => d.id));
  const byDelivery = new Map<number, { at: string; status: string; detail: string | null }[]>();
  for (const e of events) {
    const list = byDelivery.get(e.deliveryId) ?? [];
    list.push({ at: iso(e.at)!, status: e.status, detail: e.detail });
    byDelivery.set(e.deliveryId, list);
  }
  const counts = store.notifications.deliveryCounts(n.id);
  const engagement = await store.apps.engagement(n.id);
  return {
    id: n.id, event_id: n.eventId, template: n.template, template_version: n.templateVersion, category: n.category,
    priority: PRIORITIES[n.priority] ?? 'normal', status: n.status, source: n.source, app_id: n.appId,
    audience: n.audience, channels: n.channels, data: n.data, send_at: iso(n.sendAt), created_at: iso(n.createdAt), updated_at: iso(n.updatedAt),
    counts: { audience: n.counts.audience ?? null, deliveries: counts.deliveries ?? {}, skipped: counts.skipped ?? {}, no_address: n.counts.noAddress ?? {} },
    deliveries: deliveries.map((d) => ({
      id: d.id, user_id: d.userId, channel: d.channel, provider: d.provider, device_id: d.deviceId, status: d.status,
      skip_reason: d.skipReason, attempts: d.attempts, next_at: d.status === 'failed' ? iso(d.nextAt) : null,
      created_at: iso(d.createdAt), sent_at: iso(d.sentAt), last_error: d.lastError,
      history: [{ at: iso(d.createdAt)!, status: 'created', detail: d.skipReason }, ...(byDelivery.get(d.id) ?? [])],
    })),
    engagement: engagement.map((e) => ({ type: e.type, at: iso(e.at), user_id: e.userId, delivery_id: e.deliveryId, app_id: e.appId, source: e.source })),
  };
}
