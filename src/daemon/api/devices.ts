/**
 * Devices over the API (scope `contacts`): how an app install hands over its push token.
 *
 * POST /v1/users/{id}/devices
 *   { "platform": "ios" | "android", "token": "..." }   or   { "platform": "web", "subscription": { endpoint, keys } }
 *   Registers the device for the user. A token already registered is updated: re-activated and moved to
 *   this user when another user had it (a phone that changed hands).
 *   -> 201 the device when the token is new, 200 when it was known; `moved` says whether it changed user.
 *   404 when the user does not exist (create it with PUT /v1/users/{id}); 400 for a bad token.
 *
 * DELETE /v1/users/{id}/devices/{deviceId}
 *   Deactivates the device (kept for the history of what was sent where). -> 204; 404 when the user has
 *   no such device. Deleting twice is fine.
 */
import type { FastifyInstance } from 'fastify';
import type { Device } from '../../core/types.js';
import { PLATFORMS } from '../../core/types.js';
import { normalizeDevice } from '../../commands/devices/input.js';
import { InputError } from '../../errors.js';
import { ApiError, fromInputError } from './errors.js';
import type { RouteContext } from './notifications.js';
import { noUser, userIdParams } from './users.js';

const postBody = {
  type: 'object',
  additionalProperties: false,
  required: ['platform'],
  properties: {
    platform: { type: 'string', enum: [...PLATFORMS] },
    token: { type: 'string', minLength: 1, maxLength: 4096 },
    subscription: {
      type: 'object',
      required: ['endpoint', 'keys'],
      properties: {
        endpoint: { type: 'string', maxLength: 2048 },
        expirationTime: { type: ['number', 'null'] },
        keys: { type: 'object', required: ['p256dh', 'auth'], properties: { p256dh: { type: 'string' }, auth: { type: 'string' } } },
      },
    },
  },
} as const;

export function deviceJson(d: Device) {
  return {
    id: d.id, user_id: d.userId, platform: d.platform, token: d.platform === 'web' ? null : d.token, subscription: d.subscription,
    active: d.active, deactivated_at: d.deactivatedAt, deactivated_reason: d.deactivatedReason, created_at: d.createdAt, updated_at: d.updatedAt,
  };
}

export function registerDeviceRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Params: { id: string }; Body: { platform: string; token?: string; subscription?: unknown } }>('/users/:id/devices', {
    schema: { params: userIdParams, body: postBody }, config: { scope: 'contacts' },
  }, async (request, reply) => {
    const userId = request.params.id;
    let input;
    try {
      input = normalizeDevice(userId, request.body);
    } catch (err) {
      if (err instanceof InputError) throw fromInputError(err);
      throw err;
    }
    if (!(await ctx.store.users.get(userId))) throw noUser(userId);
    const result = await ctx.store.devices.register(input);
    return reply.code(result.created ? 201 : 200).send({ ...deviceJson(result.device), created: result.created, moved: result.moved });
  });

  app.delete<{ Params: { id: string; deviceId: string } }>('/users/:id/devices/:deviceId', {
    schema: { params: { type: 'object', properties: { ...userIdParams.properties, deviceId: { type: 'string', pattern: '^[0-9]{1,15}$' } } } },
    config: { scope: 'contacts' },
  }, async (request, reply) => {
    const { id: userId, deviceId } = request.params;
    const device = await ctx.store.devices.get(Number(deviceId));
    if (!device || device.userId !== userId) {
      throw new ApiError(404, 'not_found', `user "${userId}" has no device ${deviceId}: use the id POST /v1/users/{id}/devices returned`);
    }
    await ctx.store.devices.deactivate(device.id, 'removed');
    return reply.code(204).send();
  });
}
