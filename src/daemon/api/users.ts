/**
 * Users over the API (scope `contacts`): how a sign-up flow hands over a person's contact details.
 *
 * PUT /v1/users/{id}
 *   { "email": "ada@example.com", "phone": "+14155550100", "name": "Ada", "locale": "en-US",
 *     "timezone": "Europe/Berlin", "attributes": { "plan": "pro" } }      every field optional
 *   Creates the user, or updates only the fields given: null (or "") clears a field; attributes are merged
 *   key by key and a null attribute value removes that key. Email and phone are normalised (E.164; a phone
 *   without a country code is read in the daemon's defaults.country).
 *   -> 201 the user when created, 200 when updated. 400 `invalid` with the field for a bad value.
 *
 * GET /v1/users/{id} -> 200 the user, 404 when there is none.
 */
import type { FastifyInstance } from 'fastify';
import type { User } from '../../core/types.js';
import { normalizeUser } from '../../core/user.js';
import { InputError } from '../../errors.js';
import { ApiError, fromInputError } from './errors.js';
import type { RouteContext } from './notifications.js';

const text = { type: ['string', 'null'], maxLength: 320 } as const;

export const userIdParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

const putBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: text, email: text, phone: text, locale: { type: ['string', 'null'], maxLength: 64 }, timezone: { type: ['string', 'null'], maxLength: 64 },
    attributes: { type: 'object' },
  },
} as const;

export function userJson(u: User) {
  return {
    id: u.id, name: u.name, email: u.email, phone: u.phone, locale: u.locale, timezone: u.timezone,
    attributes: u.attributes, created_at: u.createdAt, updated_at: u.updatedAt,
  };
}

export function noUser(id: string): ApiError {
  return new ApiError(404, 'not_found', `no user "${id}": create it first with PUT /v1/users/${encodeURIComponent(id)}`);
}

export function registerUserRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.put<{ Params: { id: string }; Body: Record<string, unknown> }>('/users/:id', {
    schema: { params: userIdParams, body: putBody }, config: { scope: 'contacts' },
  }, async (request, reply) => {
    let input;
    try {
      input = normalizeUser({ ...request.body, id: request.params.id }, ctx.config.defaults);
    } catch (err) {
      if (err instanceof InputError) throw fromInputError(err);
      throw err;
    }
    const { inserted } = await ctx.store.users.upsertMany([input]);
    const user = (await ctx.store.users.get(input.id))!;
    return reply.code(inserted ? 201 : 200).send(userJson(user));
  });

  app.get<{ Params: { id: string } }>('/users/:id', { schema: { params: userIdParams }, config: { scope: 'contacts' } }, async (request) => {
    const user = await ctx.store.users.get(request.params.id);
    if (!user) throw noUser(request.params.id);
    return userJson(user);
  });
}
