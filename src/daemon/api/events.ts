/**
 * Engagement over the API (scope `events`): apps report what people did with a notification.
 *
 * POST /v1/events
 *   { "notification_id": "n_...", "type": "opened" | "clicked" | "dismissed",
 *     "at": "2026-01-01T09:00:00Z",      default now; at most 5 minutes ahead of the daemon's clock
 *     "delivery_id": 123,                optional: the delivery it came from (must belong to the notification)
 *     "user_id": "u1" }                  optional; taken from the delivery when absent
 *   -> 201 { id, notification_id, type, at }, recorded with the calling app and source `api`.
 *   422 `unknown_reference` when the notification does not exist; 400 for a bad field.
 */
import type { FastifyInstance } from 'fastify';
import { ENGAGEMENT_TYPES, type EngagementType } from '../../store/apps.js';
import { InputError, NotFoundError } from '../../errors.js';
import { ApiError, fromInputError, unknownReference } from './errors.js';
import type { RouteContext } from './notifications.js';

const FUTURE_SLACK_MS = 5 * 60_000;

const postBody = {
  type: 'object',
  additionalProperties: false,
  required: ['notification_id', 'type'],
  properties: {
    notification_id: { type: 'string', minLength: 1, maxLength: 200 },
    type: { type: 'string', enum: [...ENGAGEMENT_TYPES] },
    at: { type: 'string', format: 'date-time' },
    delivery_id: { type: 'integer', minimum: 1 },
    user_id: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

interface PostBody {
  notification_id: string;
  type: EngagementType;
  at?: string;
  delivery_id?: number;
  user_id?: string;
}

export function registerEventRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: PostBody }>('/events', { schema: { body: postBody }, config: { scope: 'events' } }, async (request, reply) => {
    const body = request.body;
    const now = ctx.clock.now();
    const at = body.at !== undefined ? Date.parse(body.at) : now;
    if (at > now + FUTURE_SLACK_MS) throw new ApiError(400, 'invalid', 'at: is in the future: send the time the person engaged', 'at');
    try {
      const event = await ctx.store.apps.recordEngagement({
        notificationId: body.notification_id, type: body.type, at, deliveryId: body.delivery_id, userId: body.user_id,
        appId: request.apiApp!.id, source: 'api',
      });
      return reply.code(201).send({ id: event.id, notification_id: event.notificationId, type: event.type, at: new Date(event.at).toISOString() });
    } catch (err) {
      if (err instanceof NotFoundError) throw unknownReference(err, 'notification_id');
      if (err instanceof InputError) throw fromInputError(err);
      throw err;
    }
  });
}
